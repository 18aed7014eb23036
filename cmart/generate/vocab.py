"""Word lists and fixed distributions of the demo world (a Belgian-style retail bank).

These are the generator's own constants (names, places, codes the contracts leave open). Codes that
the configuration defines — segments, products on paths, channels, response types — come from
:func:`cmart.config.load_config`, never from here.
"""

from __future__ import annotations

GENDERS = ("F", "M", "X")
GENDER_P = (0.49, 0.49, 0.02)

OCCUPATIONS = ("student", "employee", "self_employed", "civil_servant", "retired", "unemployed")
INCOME_BANDS = ("low", "medium", "high", "very_high")
MARITAL = ("single", "married", "cohabiting", "divorced", "widowed")
EMPLOYED = ("employee", "self_employed", "civil_servant")

# Age bands (lower bounds) and the natural share of customers in each (minors hold youth accounts).
AGE_BANDS = ((14, 18), (18, 25), (25, 35), (35, 55), (55, 67), (67, 96))
AGE_BAND_P = (0.02, 0.11, 0.17, 0.34, 0.18, 0.18)

# P(occupation | age band), columns in OCCUPATIONS order.
OCCUPATION_BY_AGE = (
    (1.00, 0.00, 0.00, 0.00, 0.00, 0.00),
    (0.55, 0.30, 0.03, 0.04, 0.00, 0.08),
    (0.05, 0.60, 0.10, 0.15, 0.00, 0.10),
    (0.02, 0.60, 0.14, 0.16, 0.00, 0.08),
    (0.00, 0.50, 0.12, 0.15, 0.15, 0.08),
    (0.00, 0.04, 0.04, 0.00, 0.92, 0.00),
)
# P(income band | occupation), columns in INCOME_BANDS order.
INCOME_BY_OCCUPATION = (
    (0.80, 0.20, 0.00, 0.00),
    (0.20, 0.50, 0.25, 0.05),
    (0.20, 0.35, 0.30, 0.15),
    (0.10, 0.55, 0.30, 0.05),
    (0.35, 0.45, 0.15, 0.05),
    (0.85, 0.15, 0.00, 0.00),
)
# P(marital status | age band), columns in MARITAL order.
MARITAL_BY_AGE = (
    (1.00, 0.00, 0.00, 0.00, 0.00),
    (0.85, 0.05, 0.10, 0.00, 0.00),
    (0.45, 0.30, 0.22, 0.03, 0.00),
    (0.20, 0.55, 0.13, 0.11, 0.01),
    (0.12, 0.60, 0.08, 0.14, 0.06),
    (0.08, 0.50, 0.04, 0.10, 0.28),
)

REGIONS = ("Brussels", "Antwerp", "Flanders", "Wallonia", "Central")
# (city, region index, postcode, weight)
CITIES = (
    ("Brussels", 0, 1000, 9.0),
    ("Schaerbeek", 0, 1030, 3.5),
    ("Anderlecht", 0, 1070, 3.2),
    ("Ixelles", 0, 1050, 2.5),
    ("Antwerp", 1, 2000, 9.0),
    ("Mechelen", 1, 2800, 2.5),
    ("Turnhout", 1, 2300, 1.3),
    ("Lier", 1, 2500, 1.1),
    ("Ghent", 2, 9000, 7.0),
    ("Bruges", 2, 8000, 3.2),
    ("Kortrijk", 2, 8500, 2.2),
    ("Ostend", 2, 8400, 2.0),
    ("Liège", 3, 4000, 5.5),
    ("Namur", 3, 5000, 3.0),
    ("Charleroi", 3, 6000, 5.0),
    ("Mons", 3, 7000, 2.6),
    ("Leuven", 4, 3000, 3.0),
    ("Hasselt", 4, 3500, 2.1),
    ("Genk", 4, 3600, 1.9),
    ("Wavre", 4, 1300, 1.0),
)

STREETS = (
    "Rue de la Loi",
    "Avenue Louise",
    "Meir",
    "Kouter",
    "Grote Markt",
    "Rue Neuve",
    "Stationsstraat",
    "Kerkstraat",
    "Rue du Marché",
    "Bondgenotenlaan",
    "Nieuwstraat",
    "Chaussée de Wavre",
    "Boulevard d'Avroy",
    "Dorpsstraat",
    "Molenstraat",
    "Rue de Namur",
    "Lindenlaan",
    "Place Verte",
    "Koningin Astridlaan",
    "Rue des Carmes",
)

FIRST_NAMES_F = (
    "Emma", "Louise", "Olivia", "Elise", "Marie", "Julie", "Sarah", "Laura", "Lotte", "Nina",
    "Camille", "Charlotte", "Lea", "Anna", "Sofie", "Ines", "Hanne", "Eva", "Amelie", "Noor",
    "Chloe", "Fatima", "Yasmine", "Lisa", "Manon",
)  # fmt: skip
FIRST_NAMES_M = (
    "Noah", "Lucas", "Louis", "Liam", "Arthur", "Jules", "Adam", "Victor", "Finn", "Mathis",
    "Thomas", "Pieter", "Jan", "Wout", "Bram", "Hugo", "Mohamed", "Karim", "Tom", "Simon",
    "Maxime", "Nathan", "Elias", "Vincent", "Kobe",
)  # fmt: skip
LAST_NAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
    "Dubois", "Lambert", "Dupont", "Martin", "Simon", "Leclercq", "Laurent", "Dumont", "Hermans",
    "Michiels", "Aerts", "Smets", "De Smet", "Van Damme", "Lemmens", "Renard", "Vermeulen",
    "Francois", "Desmet", "Bogaert", "Cools", "Verstraete", "Benali", "El Amrani", "Nowak",
    "Rossi", "Garcia", "Baert", "Van den Broeck", "Coppens", "Gilles",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "inbox.example")
EMPLOYERS = (
    "acme", "globex", "initech", "umbrella", "stark", "wayne", "hooli", "vandelay", "cyberdyne",
    "tyrell", "soylent", "wonka", "aperture", "gringotts", "oscorp",
)  # fmt: skip

JOIN_REASONS = ("salary_account", "mortgage", "recommendation", "promotion", "branch_walk_in")
JOIN_REASON_P = (0.3, 0.15, 0.2, 0.2, 0.15)
COMPLAINT_CATEGORIES = ("fees", "service", "product", "fraud", "app", "waiting_time")
LIFE_EVENTS = ("marriage", "child", "new_job", "moved", "retirement")
SCORES = ("churn_risk", "credit_score", "digital_affinity")
OBJECTIVES = ("acquisition", "cross_sell", "upsell", "retention", "activation")
OWNERS = ("crm_team", "cards_team", "lending_team", "wealth_team", "insurance_team")
SEASONS = ("Winter", "Spring", "Summer", "Autumn")

# Demo catalogue for the product ids the default product paths use. Unknown ids get defaults.
# product_id -> (name, category, tier, value)
KNOWN_PRODUCTS: dict[str, tuple[str, str, str, float]] = {
    "savings": ("Savings account", "deposit", "mass", 40.0),
    "term_deposit": ("Term deposit", "deposit", "mass", 80.0),
    "cc_classic": ("Classic credit card", "card", "mass", 60.0),
    "cc_platinum": ("Platinum credit card", "card", "premium", 520.0),
    "personal_loan": ("Personal loan", "credit", "mass", 250.0),
    "auto_loan": ("Car loan", "credit", "mass", 400.0),
    "mortgage": ("Mortgage", "credit", "premium", 2500.0),
    "funds": ("Investment funds", "investment", "premium", 800.0),
    "pension_plan": ("Pension savings plan", "investment", "premium", 900.0),
    "private_banking": ("Private banking mandate", "investment", "premium", 5000.0),
    "life_insurance": ("Life insurance", "insurance", "mass", 180.0),
    "home_insurance": ("Home insurance", "insurance", "mass", 120.0),
}
CATEGORY_KEYWORDS = (
    ("loan", "credit"),
    ("mortgage", "credit"),
    ("credit", "credit"),
    ("card", "card"),
    ("cc_", "card"),
    ("deposit", "deposit"),
    ("saving", "deposit"),
    ("account", "deposit"),
    ("insur", "insurance"),
    ("fund", "investment"),
    ("pension", "investment"),
    ("invest", "investment"),
)
PREMIUM_KEYWORDS = ("platinum", "gold", "premium", "private", "wealth")

# How "digital" a channel is (0 = needs a person or paper, 1 = self-service app); drives the planted
# segment x channel affinity. Unknown channel codes get 0.5.
CHANNEL_DIGITAL = {
    "mobile": 1.0,
    "internet": 0.9,
    "email": 0.8,
    "sms": 0.7,
    "atm": 0.5,
    "statement": 0.3,
    "call_center": 0.3,
    "direct_mail": 0.2,
    "branch": 0.05,
}
# Relative soft-response propensity by channel (opens and clicks are a digital thing).
CHANNEL_SOFT = {
    "email": 1.6,
    "mobile": 1.4,
    "internet": 1.2,
    "sms": 1.0,
    "call_center": 0.9,
    "branch": 0.8,
    "atm": 0.6,
    "direct_mail": 0.5,
    "statement": 0.4,
}

# Unknown codes used by the dirty-data faults.
BAD_CODES = {
    "channel": "fax",
    "response_type": "maybe",
    "gender": "Q",
    "status": "opt_maybe",
    "tier": "platinum_plus",
    "branch_type": "kiosk",
    "key": "favourite_colour",
    "value": "neighbour",
    "channels": "email|fax",
}
BAD_DATES = ("2026-13-45", "yesterday", "1850-06-01", "2199-01-01")
BAD_TIMESTAMPS = ("2026-13-45T08:00:00", "yesterday", "1850-06-01T10:00:00", "2199-01-01T00:00:00")
