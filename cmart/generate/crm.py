"""The call-centre CRM: records overlapping the core customers by national id, e-mail (typed
differently) or phone (formatted differently), and people only the CRM knows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmart.generate import vocab
from cmart.generate.branches import CITY_NAMES, FIRST_NAMES
from cmart.generate.frame import Frame, rng_for, uniform_times, weighted
from cmart.generate.people import CRM_PHONES, Customers
from cmart.generate.textfmt import (
    SECONDS_PER_DAY,
    digits,
    fixed_to_arrow,
    id_template,
    join,
    timestamps,
    vocab_array,
    with_nulls,
)

MATCH_RULES = ("national_id", "email", "phone", "none")
MATCH_SHARES = (0.30, 0.15, 0.10, 0.45)


@dataclass(eq=False)
class CrmPlan:
    count: int
    rule: np.ndarray  # index into MATCH_RULES
    customer: np.ndarray  # matched customer index, -1 for none
    person: np.ndarray  # person index (customer or CRM-only person)


def crm_size(n_customers: int) -> tuple[int, int]:
    """(CRM records, CRM-only people) for a world of ``n_customers``."""
    total = max(4, round(0.4 * n_customers))
    return total, round(total * MATCH_SHARES[3])


def plan_crm(seed: int, customers: Customers, total: int, n_only: int) -> CrmPlan:
    rng = rng_for(seed, "crm_plan")
    n_matched = total - n_only
    n_nid = round(total * MATCH_SHARES[0])
    n_email = round(total * MATCH_SHARES[1])
    n_phone = n_matched - n_nid - n_email
    order = rng.permutation(customers.count)
    nid = order[:n_nid]
    rest = order[n_nid:]
    email_pool = rest[customers.has_email[rest]]
    email = email_pool[:n_email]
    rest = np.setdiff1d(rest, email, assume_unique=True)
    rest = rest[rng.permutation(len(rest))]
    phone = rest[customers.has_phone[rest]][:n_phone]
    only = customers.count + np.arange(n_only)
    person = np.concatenate([nid, email, phone, only])
    rule = np.repeat(np.arange(4, dtype=np.int8), [len(nid), len(email), len(phone), n_only])
    customer = np.where(rule < 3, person, -1)
    shuffle = rng.permutation(len(person))
    return CrmPlan(len(person), rule[shuffle], customer[shuffle], person[shuffle])


def _email_variant(rng: np.random.Generator, email: pa.Array) -> pa.Array:
    """The same address as another system would type it: other case, stray spaces."""
    size = len(email)
    case = rng.integers(0, 3, size)
    spaced = rng.random(size) < 0.5
    upper = pc.utf8_upper(email)
    capital = pc.utf8_capitalize(email)
    cased = pc.if_else(pa.array(case == 0), upper, pc.if_else(pa.array(case == 1), capital, email))
    padded = join("  ", cased, " ")
    must_pad = spaced | (case == 2)
    return pc.if_else(pa.array(must_pad), padded, cased)


def crm_table(seed: int, frame: Frame, plan: CrmPlan, customers: Customers) -> pa.Table:
    rng = rng_for(seed, "crm_rows")
    persons = customers.persons
    person = plan.person
    rule = plan.rule
    size = plan.count
    email_source = persons.email_home.take(pa.array(person))
    email_variant = _email_variant(rng, email_source)
    only = rule == 3
    nid_valid = (rule == 0) | (only & (rng.random(size) < 0.7))
    email_valid = (
        ((rule == 0) & (rng.random(size) < 0.5)) | (rule == 1) | (only & (rng.random(size) < 0.8))
    )
    email = pc.if_else(pa.array(rule == 1), email_variant, email_source)
    phone_valid = (
        ((rule == 0) & (rng.random(size) < 0.5)) | (rule == 2) | (only & (rng.random(size) < 0.7))
    )
    compact = rng.random(size) < 0.7
    phone = pc.if_else(
        pa.array(compact),
        fixed_to_arrow(digits(CRM_PHONES[0], persons.phone_digits[person])),
        fixed_to_arrow(digits(CRM_PHONES[1], persons.phone_digits[person])),
    )
    phone = with_nulls(phone, phone_valid)
    full_name = join(
        vocab_array(FIRST_NAMES, persons.first_name[person], dictionary=False),
        vocab_array(vocab.LAST_NAMES, persons.last_name[person], dictionary=False),
        sep=" ",
    )
    upper_name = rng.random(size) < 0.2
    full_name = pc.if_else(pa.array(upper_name), pc.utf8_upper(full_name), full_name)
    updated_s = uniform_times(rng, frame.start_s - 730 * SECONDS_PER_DAY, frame.end_s, size)
    return pa.table(
        {
            "crm_id": fixed_to_arrow(digits(id_template("CRM", size, 7), np.arange(1, size + 1))),
            "national_id": fixed_to_arrow(persons.national_id[person], nid_valid),
            "full_name": full_name,
            "email": with_nulls(email, email_valid),
            "mobile_phone": phone,
            "city": vocab_array(CITY_NAMES, persons.city[person], dictionary=False),
            "join_reason": vocab_array(
                vocab.JOIN_REASONS, weighted(rng, vocab.JOIN_REASON_P, size), dictionary=False
            ),
            "updated_at": timestamps(updated_s),
        }
    )


def identity_truth(plan: CrmPlan, customers: Customers) -> pa.Table:
    size = plan.count
    matched = plan.customer >= 0
    return pa.table(
        {
            "crm_id": fixed_to_arrow(digits(id_template("CRM", size, 7), np.arange(1, size + 1))),
            "customer_id": fixed_to_arrow(customers.ids[np.maximum(plan.customer, 0)], matched),
            "match_rule": vocab_array(MATCH_RULES, plan.rule, dictionary=False),
        }
    )
