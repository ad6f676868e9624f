"""The fictional seller of the demo: its business units, products, and the market it sells into.

The seller is itself a group of three BUs with very different cycles (3-month software, 4-month
services, 9-month industrial hardware), which is what makes multi-BU orchestration, collisions and
lead routing worth demonstrating.
"""

from __future__ import annotations

from typing import NamedTuple


class SellerBU(NamedTuple):
    bu_id: str
    name: str
    sales_cycle_days: int
    description: str


class Product(NamedTuple):
    product_id: str
    name: str
    family: str
    bu: int  # index into SELLER_BUS
    list_price: float  # EUR
    margin_pct: float


SELLER_BUS: tuple[SellerBU, ...] = (
    SellerBU("bu_software", "Software", 90, "SaaS analytics, integration and customer-portal suite"),
    SellerBU("bu_services", "Services", 120, "Implementation, migration, training and managed services"),
    SellerBU("bu_hardware", "Industrial Hardware", 270, "Edge gateways, sensors and controllers for plants"),
)

PRODUCTS: tuple[Product, ...] = (
    Product("P-SW-ANL", "Cloud Analytics Suite", "Analytics", 0, 24000, 72),
    Product("P-SW-INT", "Data Integration Hub", "Integration", 0, 36000, 70),
    Product("P-SW-POR", "Customer Portal", "Applications", 0, 18000, 68),
    Product("P-SW-SEC", "Security Shield", "Security", 0, 12000, 65),
    Product("P-SW-AIF", "AI Forecasting Add-on", "Analytics", 0, 9000, 75),
    Product("P-SV-IMP", "Implementation Services", "Consulting", 1, 45000, 35),
    Product("P-SV-MAN", "Managed Services", "Run", 1, 60000, 30),
    Product("P-SV-TRN", "Training Pack", "Training", 1, 8000, 55),
    Product("P-SV-MIG", "Data Migration", "Consulting", 1, 25000, 40),
    Product("P-HW-GTW", "Edge Gateway X200", "Edge devices", 2, 15000, 28),
    Product("P-HW-SEN", "Industrial Sensor Kit", "Sensors", 2, 6000, 24),
    Product("P-HW-CTL", "Rugged Controller RC9", "Controllers", 2, 40000, 22),
    Product("P-HW-PDM", "Predictive Maintenance Bundle", "Solutions", 2, 120000, 33),
)

# Industry, share of companies, and the weight of each seller BU in what it buys.
INDUSTRIES: tuple[tuple[str, float, tuple[float, float, float]], ...] = (
    ("Software", 0.09, (0.65, 0.30, 0.05)),
    ("E-commerce", 0.07, (0.60, 0.35, 0.05)),
    ("Financial services", 0.09, (0.55, 0.40, 0.05)),
    ("Manufacturing", 0.14, (0.20, 0.25, 0.55)),
    ("Energy", 0.08, (0.20, 0.30, 0.50)),
    ("Retail", 0.09, (0.45, 0.40, 0.15)),
    ("Healthcare", 0.08, (0.40, 0.45, 0.15)),
    ("Logistics", 0.08, (0.30, 0.30, 0.40)),
    ("Construction", 0.07, (0.20, 0.35, 0.45)),
    ("Telecommunications", 0.06, (0.45, 0.40, 0.15)),
    ("Food & beverage", 0.07, (0.25, 0.30, 0.45)),
    ("Automotive", 0.08, (0.20, 0.25, 0.55)),
)
ICP_INDUSTRIES: frozenset[str] = frozenset({"Software", "E-commerce", "Financial services"})
# Revenue per employee, in EUR thousands, by industry (same order as INDUSTRIES).
REVENUE_PER_EMPLOYEE: tuple[float, ...] = (180, 260, 320, 190, 420, 210, 150, 170, 160, 350, 230, 280)

# Technology, base adoption rate, extra rate in the ICP industries.
TECHNOLOGIES: tuple[tuple[str, float, float], ...] = (
    ("Salesforce", 0.18, 0.12),
    ("HubSpot", 0.12, 0.12),
    ("SAP", 0.30, -0.10),
    ("Oracle", 0.14, 0.0),
    ("Microsoft Dynamics", 0.14, 0.0),
    ("Snowflake", 0.08, 0.15),
    ("AWS", 0.32, 0.15),
    ("Azure", 0.30, 0.0),
    ("Shopify", 0.05, 0.15),
    ("Zendesk", 0.14, 0.10),
    ("Slack", 0.28, 0.20),
    ("Jira", 0.28, 0.20),
)
CRM_TECH_MASK = 0b11  # Salesforce or HubSpot

# Units of EUR for one unit of the currency (rough, only used to make amounts comparable).
EUR_PER_UNIT: dict[str, float] = {"EUR": 1.0, "USD": 0.92, "GBP": 1.17, "CHF": 1.06}

OPEN_STAGES: tuple[str, ...] = ("qualification", "discovery", "proposal", "negotiation")

# Activity type, share of generic activities, engagement weight.
ACTIVITY_TYPES: tuple[tuple[str, float, int], ...] = (
    ("web_visit", 0.38, 1),
    ("email_click", 0.20, 2),
    ("pricing_page", 0.05, 5),
    ("form_fill", 0.07, 8),
    ("meeting", 0.10, 10),
    ("event", 0.07, 6),
    ("intent_topic", 0.13, 3),
)
ACTIVITY_TOPICS: dict[str, tuple[str, ...]] = {
    "web_visit": ("/solutions/analytics", "/solutions/integration", "/services/implementation",
                  "/hardware/edge-gateway", "/blog/abm-multi-bu", "/customers", "/careers", "/"),
    "email_click": ("Newsletter", "Product update", "Webinar invitation", "Case study", "Event invitation"),
    "pricing_page": ("/pricing", "/pricing/enterprise", "/pricing/hardware"),
    "form_fill": ("Demo request", "White paper: predictive maintenance", "Contact sales",
                  "ROI calculator", "Trial sign-up"),
    "meeting": ("Discovery call", "Technical workshop", "POC review", "Quarterly business review",
                "Executive briefing"),
    "event": ("Data & Analytics Summit Paris", "Industrie Connectée Lyon", "Smart Factory Expo Stuttgart",
              "Customer Day London", "Partner Forum Milano", "Cloud Roadshow Madrid"),
    "intent_topic": ("CRM consolidation", "ERP migration", "predictive maintenance",
                     "cloud cost optimisation", "data governance", "IoT sensors", "cybersecurity",
                     "customer portal"),
}
# The seller BU a topic belongs to (None: shared), used to stamp seller_bu on activities.
TOPIC_BU: dict[str, int] = {
    "/solutions/analytics": 0, "/solutions/integration": 0, "/services/implementation": 1,
    "/hardware/edge-gateway": 2, "/pricing/hardware": 2, "White paper: predictive maintenance": 2,
    "Trial sign-up": 0, "Smart Factory Expo Stuttgart": 2, "Industrie Connectée Lyon": 2,
    "CRM consolidation": 0, "ERP migration": 1, "predictive maintenance": 2,
    "cloud cost optimisation": 0, "data governance": 0, "IoT sensors": 2, "customer portal": 0,
}

CAMPAIGN_THEMES: tuple[tuple[str, ...], ...] = (
    ("Analytics webinar series", "Data integration roadshow", "Customer portal launch",
     "AI forecasting early access", "Security Shield upgrade", "CRM consolidation ABM",
     "Retail analytics playbook", "Financial services data day", "E-commerce growth kit",
     "Year-end renewal push"),
    ("Implementation fast-track", "Migration assessment offer", "Managed services ABM",
     "Training academy", "Cloud readiness audit", "Key accounts QBR programme",
     "Public sector framework", "Healthcare compliance day", "Partner co-selling", "Spring workshops"),
    ("Smart factory tour", "Predictive maintenance ABM", "Sensor kit trial", "Edge gateway launch",
     "Energy sites retrofit", "Automotive suppliers day", "Logistics hubs campaign",
     "Food plants hygiene sensors", "Construction equipment IoT", "Trade fair follow-up"),
)
CHANNELS: tuple[str, ...] = ("email", "event", "ads", "webinar", "abm", "direct_mail")
LEAD_SOURCES: tuple[str, ...] = ("web", "web", "event", "partner", "webinar", "referral")
FREE_MAIL: tuple[str, ...] = ("gmail.com", "outlook.com", "yahoo.fr", "gmx.de", "hotmail.co.uk")

MEDDIC: dict[str, tuple[str, ...]] = {
    "metrics": ("-20 % procurement cycle time", "Save 150 k€ a year on licences",
                "+5 pts gross margin on spare parts", "Forecast accuracy above 90 %",
                "Unplanned downtime halved", "One customer view across 4 BUs"),
    "decision_criteria": ("TCO over 3 years; SSO; EU hosting", "Integration with SAP; uptime SLA",
                          "Local support; ATEX certification", "Price; references in the sector",
                          "Security review; GDPR DPA"),
    "decision_process": ("POC then steering committee", "Board sign-off after budget validation",
                         "Procurement tender, 3 vendors", "CFO approval above 100 k€",
                         "Pilot in one plant then group roll-out"),
    "identify_pain": ("Fragmented CRMs across BUs", "Manual month-end reporting",
                      "Unplanned downtime on line 3", "Churn in the SMB segment",
                      "No visibility on group-wide revenue", "Legacy ERP end of support"),
}
