"""The generated world held in memory while its files are written."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cmart.generate import acceptance, accounts, branches, catalogue, crm, people, planted
from cmart.generate.frame import Frame
from cmart.generate.worldconfig import WorldConfig


@dataclass(eq=False)
class World:
    cfg: WorldConfig
    frame: Frame
    seed: int
    branches: branches.Branches
    customers: people.Customers
    crm: crm.CrmPlan
    products: catalogue.Products
    campaigns: catalogue.Campaigns
    offers: catalogue.Offers
    holdings: accounts.Holdings
    complaints: accounts.Complaints
    affinity: np.ndarray
    credit: np.ndarray
    life_events: accounts.LifeEvents
    effects: acceptance.Effects
    planted: planted.Planted
