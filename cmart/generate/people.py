"""People of the world: everyone with an identity, and the core-banking customers among them.

Persons ``0 .. n_customers - 1`` are the bank's customers; the rest are people only the CRM knows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cmart.generate import vocab
from cmart.generate.branches import (
    CITY_NAMES,
    CITY_POSTCODES,
    CITY_REGION,
    CITY_WEIGHT,
    FIRST_NAMES,
    Branches,
    home_branches,
)
from cmart.generate.demographics import (
    Demographics,
    age_band,
    natural_demographics,
    populate_every_segment,
)
from cmart.generate.frame import (
    DAYS_PER_YEAR,
    Frame,
    categorical,
    rng_for,
    uniform_times,
    weighted,
)
from cmart.generate.textfmt import (
    SECONDS_PER_DAY,
    civil_from_days,
    digits,
    fixed_to_arrow,
    id_template,
    iso_dates,
    join,
    timestamps,
    vocab_array,
    with_nulls,
)
from cmart.generate.worldconfig import WorldConfig


@dataclass(eq=False)
class Persons:
    count: int
    gender: np.ndarray
    first_name: np.ndarray
    last_name: np.ndarray
    city: np.ndarray
    national_id: np.ndarray  # S11
    phone_digits: np.ndarray  # int64, the 8 digits after "+32 4"
    email_home: pa.Array  # lower-case, unique


def national_ids(birth_day: np.ndarray) -> np.ndarray:
    """Belgian-style national numbers: YYMMDD + 3-digit serial + 2-digit check, all unique."""
    order = np.argsort(birth_day, kind="stable")
    sorted_days = birth_day[order]
    group_start = np.r_[True, sorted_days[1:] != sorted_days[:-1]]
    first_of_group = np.maximum.accumulate(np.where(group_start, np.arange(len(order)), 0))
    serial = np.empty(len(order), dtype=np.int64)
    serial[order] = np.arange(len(order)) - first_of_group + 1
    if len(serial) and serial.max() > 998:
        raise ValueError("too many people born on one day for unique national ids")
    year, month, day = (part.astype(np.int64) for part in civil_from_days(birth_day))
    base = ((year % 100) * 10_000 + month * 100 + day) * 1_000 + serial
    check = 97 - base % 97
    return digits("###########", base * 100 + check)


def _lower_names(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name.lower().replace(" ", "") for name in names)


def make_persons(seed: int, count: int, birth_day: np.ndarray) -> Persons:
    rng = rng_for(seed, "persons")
    gender = weighted(rng, vocab.GENDER_P, count).astype(np.int8)
    n_female = len(vocab.FIRST_NAMES_F)
    first = np.where(
        gender == 0,
        rng.integers(0, n_female, count),
        np.where(gender == 1, n_female, 0) + rng.integers(0, len(FIRST_NAMES) - n_female, count),
    )
    last = rng.integers(0, len(vocab.LAST_NAMES), count)
    city = weighted(rng, CITY_WEIGHT, count).astype(np.int16)
    multiplier = int(rng.integers(1, 10**7)) * 10 + 3  # coprime with 10**8: a permutation
    offset = int(rng.integers(0, 10**8))
    phone = (np.arange(count, dtype=np.int64) * multiplier + offset) % 10**8
    number = pc.cast(pa.array(np.arange(1, count + 1)), pa.string())
    email_home = join(
        vocab_array(_lower_names(FIRST_NAMES), first, dictionary=False),
        ".",
        vocab_array(_lower_names(vocab.LAST_NAMES), last, dictionary=False),
        ".",
        number,
        "@",
        vocab_array(
            vocab.EMAIL_DOMAINS, rng.integers(0, len(vocab.EMAIL_DOMAINS), count), dictionary=False
        ),
    )
    return Persons(
        count=count,
        gender=gender,
        first_name=first.astype(np.int16),
        last_name=last.astype(np.int16),
        city=city,
        national_id=national_ids(birth_day),
        phone_digits=phone,
        email_home=email_home,
    )


CORE_PHONE = "+32 4## ## ## ##"
CRM_PHONES = ("04########", "04## ## ## ##")


# --- customers ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Customers:
    count: int
    ids: np.ndarray  # S
    demographics: Demographics
    persons: Persons  # the first ``count`` persons are the customers
    marital: np.ndarray
    home_branch: np.ndarray
    since_s: np.ndarray
    base_updated_s: np.ndarray
    has_email: np.ndarray
    has_phone: np.ndarray
    has_work: np.ndarray  # has a work e-mail and a work address
    updated: np.ndarray  # bool: has a later row in customers_updates
    update_kind: np.ndarray  # 0 moved, 1 new e-mail, 2 married, 3 new job
    update_s: np.ndarray

    @property
    def segment(self) -> np.ndarray:
        return self.demographics.segment

    @property
    def city(self) -> np.ndarray:
        return self.persons.city[: self.count]

    @property
    def age(self) -> np.ndarray:
        return self.demographics.age


UPDATE_KINDS = ("moved", "new_email", "married", "new_job")


def make_customers(
    cfg: WorldConfig, seed: int, frame: Frame, count: int, n_extra_persons: int, branches: Branches
) -> Customers:
    rng = rng_for(seed, "customers")
    demographics = natural_demographics(cfg, rng, frame, count)
    populate_every_segment(cfg, rng, frame, demographics)
    extra = natural_demographics(cfg, rng, frame, n_extra_persons)
    persons = make_persons(
        seed, count + n_extra_persons, np.concatenate([demographics.birth_day, extra.birth_day])
    )
    city = persons.city[:count]
    marital = categorical(rng, np.array(vocab.MARITAL_BY_AGE), age_band(demographics.age))
    employed = np.isin(demographics.occupation, [cfg.occupations.index(o) for o in vocab.EMPLOYED])
    max_years = np.clip(demographics.age.astype(float) - 13.0, 0.3, 30.0)
    years = rng.uniform(0.2, 1.0, count) * max_years
    since_s = frame.start_s - (years * DAYS_PER_YEAR * SECONDS_PER_DAY).astype(np.int64)
    base_updated_s = uniform_times(rng, since_s, frame.start_s, count)
    updated = rng.random(count) < 0.06
    update_kind = weighted(rng, (0.4, 0.25, 0.2, 0.15), count).astype(np.int8)
    update_kind[(update_kind == 3) & ~employed] = 1
    married_before = marital == vocab.MARITAL.index("married")
    update_kind[(update_kind == 2) & married_before] = 1
    marital[updated & (update_kind == 2)] = vocab.MARITAL.index("married")
    return Customers(
        count=count,
        ids=digits(id_template("C", count, 8), np.arange(1, count + 1)),
        demographics=demographics,
        persons=persons,
        marital=marital,
        home_branch=home_branches(rng, city, branches),
        since_s=since_s,
        base_updated_s=base_updated_s,
        has_email=rng.random(count) < 0.93,
        has_phone=rng.random(count) < 0.95,
        has_work=employed & (rng.random(count) < 0.75),
        updated=updated,
        update_kind=update_kind,
        update_s=uniform_times(rng, frame.start_s, frame.end_s, count),
    )


def _address(rng: np.random.Generator, city: np.ndarray) -> pa.Array:
    size = len(city)
    return join(
        vocab_array(vocab.STREETS, rng.integers(0, len(vocab.STREETS), size), dictionary=False),
        " ",
        pc.cast(pa.array(rng.integers(1, 200, size)), pa.string()),
        ", ",
        vocab_array(CITY_POSTCODES, city, dictionary=False),
    )


def _work_email(rng: np.random.Generator, customers: Customers) -> pa.Array:
    persons = customers.persons
    size = customers.count
    initial = tuple(name[0].lower() for name in FIRST_NAMES)
    return join(
        vocab_array(initial, persons.first_name[:size], dictionary=False),
        ".",
        vocab_array(_lower_names(vocab.LAST_NAMES), persons.last_name[:size], dictionary=False),
        pc.cast(pa.array(np.arange(1, size + 1)), pa.string()),
        "@",
        vocab_array(vocab.EMPLOYERS, rng.integers(0, len(vocab.EMPLOYERS), size), dictionary=False),
        ".example",
    )


def customer_tables(
    cfg: WorldConfig, seed: int, customers: Customers, branches: Branches
) -> tuple[pa.Table, pa.Table]:
    """The initial customer master and the later update rows (full rows, later updated_at)."""
    rng = rng_for(seed, "customer_rows")
    size = customers.count
    persons = customers.persons
    city = customers.city
    kind = customers.update_kind
    updated = customers.updated
    moved = updated & (kind == 0)
    previous_city = np.where(moved, weighted(rng, CITY_WEIGHT, size), city).astype(np.int16)
    previous_branch = np.where(
        moved, home_branches(rng, previous_city, branches), customers.home_branch
    )
    previous_marital = np.where(
        updated & (kind == 2), vocab.MARITAL.index("single"), customers.marital
    )
    home_address = _address(rng, city)
    work_address = with_nulls(_address(rng, weighted(rng, CITY_WEIGHT, size)), customers.has_work)
    work_email = with_nulls(_work_email(rng, customers), customers.has_work)
    email_home = with_nulls(persons.email_home.slice(0, size), customers.has_email)
    new_job = pa.array(updated & (kind == 3))
    final = {
        "customer_id": fixed_to_arrow(customers.ids),
        "national_id": fixed_to_arrow(persons.national_id[:size]),
        "first_name": vocab_array(FIRST_NAMES, persons.first_name[:size]),
        "last_name": vocab_array(vocab.LAST_NAMES, persons.last_name[:size]),
        "birth_date": fixed_to_arrow(iso_dates(customers.demographics.birth_day)),
        "gender": vocab_array(vocab.GENDERS, persons.gender[:size]),
        "occupation": vocab_array(cfg.occupations, customers.demographics.occupation),
        "marital_status": vocab_array(vocab.MARITAL, customers.marital),
        "income_band": vocab_array(cfg.income_bands, customers.demographics.income),
        "city": vocab_array(CITY_NAMES, city),
        "region": vocab_array(vocab.REGIONS, CITY_REGION[city]),
        "home_branch_id": fixed_to_arrow(branches.ids[customers.home_branch]),
        "email_home": email_home,
        "email_work": work_email,
        "mobile_phone": fixed_to_arrow(
            digits(CORE_PHONE, persons.phone_digits[:size]), customers.has_phone
        ),
        "home_address": home_address,
        "work_address": work_address,
        "updated_at": timestamps(np.where(updated, customers.update_s, customers.base_updated_s)),
    }
    previous = dict(final)
    previous["marital_status"] = vocab_array(vocab.MARITAL, previous_marital)
    previous["city"] = vocab_array(CITY_NAMES, previous_city)
    previous["region"] = vocab_array(vocab.REGIONS, CITY_REGION[previous_city])
    previous["home_branch_id"] = fixed_to_arrow(branches.ids[previous_branch])
    previous["home_address"] = pc.if_else(
        pa.array(moved), _address(rng, previous_city), home_address
    )
    previous["email_home"] = pc.if_else(
        pa.array(updated & (kind == 1)),
        pc.replace_substring_regex(email_home, "@.*$", "@oldmail.example"),
        email_home,
    )
    previous["email_work"] = pc.if_else(
        new_job, pc.replace_substring_regex(work_email, "@.*$", "@formerjob.example"), work_email
    )
    previous["work_address"] = pc.if_else(
        new_job, _address(rng, weighted(rng, CITY_WEIGHT, size)), work_address
    )
    previous["updated_at"] = timestamps(customers.base_updated_s)
    for name, column in previous.items():
        if pa.types.is_dictionary(column.type):
            previous[name] = column.cast(pa.string())
    for name, column in final.items():
        if pa.types.is_dictionary(column.type):
            final[name] = column.cast(pa.string())
    base = pa.table(previous)
    updates = pa.table(final).filter(pa.array(updated))
    return base, updates
