"""Code lists the parsers translate: ISO 20275 ELF codes and INSEE's legal-category codes.

Registries publish codes, users read labels: "2HBR" means GmbH, "5710" means SAS. The ELF list
(3,428 codes, CC0, see data/SOURCE.md) ships as package data and is loaded on first use; the INSEE
table below covers the categories that hold nearly all French companies, and the parsers keep the
raw code for the others so nothing is lost.
"""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib.resources import files

# INSEE "catégorie juridique" (niveau III) -> usual French label or abbreviation.
INSEE_LEGAL_FORMS: dict[str, str] = {
    "1000": "Entrepreneur individuel",
    "2110": "Indivision", "2210": "Société créée de fait", "2310": "Société en participation",
    "2900": "Groupement de droit privé",
    "3110": "Représentation d'un État étranger", "3120": "Société commerciale étrangère",
    "3205": "Organisation internationale",
    "4110": "EPIC", "4120": "EPIC",
    "5191": "Société de caution mutuelle", "5192": "Société coopérative de banque populaire",
    "5195": "Association coopérative inscrite", "5196": "Caisse d'épargne et de prévoyance",
    "5202": "SNC", "5203": "SNC coopérative", "5306": "SCS", "5307": "SCS coopérative",
    "5308": "SCA", "5309": "SCA coopérative", "5385": "SELCA",
    "5410": "SARL nationale", "5415": "SARL d'économie mixte", "5422": "SARL immobilière",
    "5426": "SARL immobilière de gestion", "5430": "SAFER SARL", "5431": "SARL mixte d'intérêt agricole",
    "5432": "SARL d'intérêt collectif agricole", "5442": "SARL d'attribution",
    "5443": "SARL coopérative de construction", "5451": "SARL coopérative de consommation",
    "5453": "SARL coopérative artisanale", "5454": "SARL coopérative d'intérêt maritime",
    "5455": "SARL coopérative de transport", "5458": "SCOP SARL", "5459": "SARL union de sociétés coopératives",
    "5460": "SARL coopérative", "5470": "SPFPL SARL", "5485": "SELARL",
    "5498": "EURL", "5499": "SARL",
    "5505": "SA à participation ouvrière", "5510": "SA nationale", "5515": "SA d'économie mixte", "5522": "SA immobilière", "5525": "SA immobilière d'investissement",
    "5530": "SAFER SA", "5531": "SA mixte d'intérêt agricole", "5532": "SICA SA",
    "5542": "SA d'attribution", "5543": "SA coopérative de construction", "5546": "SA de HLM",
    "5547": "SA coopérative de production de HLM", "5548": "SA de crédit immobilier",
    "5551": "SA coopérative de consommation", "5552": "SA coopérative de commerçants-détaillants",
    "5553": "SA coopérative artisanale", "5554": "SA coopérative d'intérêt maritime",
    "5555": "SA coopérative de transport", "5558": "SCOP SA", "5559": "SA union de sociétés coopératives",
    "5560": "SA coopérative", "5570": "SPFPL SA", "5585": "SELAFA", "5599": "SA",
    "5605": "SA à participation ouvrière", "5610": "SA nationale", "5615": "SA d'économie mixte", "5622": "SA immobilière", "5625": "SA immobilière d'investissement",
    "5630": "SAFER SA", "5631": "SA mixte d'intérêt agricole", "5632": "SICA SA",
    "5642": "SA d'attribution", "5643": "SA coopérative de construction", "5646": "SA de HLM",
    "5647": "SA coopérative de production de HLM", "5648": "SA de crédit immobilier",
    "5651": "SA coopérative de consommation", "5652": "SA coopérative de commerçants-détaillants",
    "5653": "SA coopérative artisanale", "5654": "SA coopérative d'intérêt maritime",
    "5655": "SA coopérative de transport", "5658": "SCOP SA", "5659": "SA union de sociétés coopératives",
    "5660": "SA coopérative", "5670": "SPFPL SA", "5685": "SELAFA", "5699": "SA",
    "5710": "SAS", "5720": "SASU", "5770": "SPFPL SAS", "5785": "SELAS", "5800": "SE",
    "6100": "Caisse d'épargne et de prévoyance", "6210": "GEIE", "6220": "GIE",
    "6316": "CUMA", "6317": "Société coopérative agricole", "6318": "Union de sociétés coopératives agricoles",
    "6411": "Société d'assurance mutuelle", "6521": "SCPI", "6532": "SICA", "6533": "GAEC",
    "6534": "GFA", "6535": "Groupement agricole foncier", "6536": "Groupement forestier",
    "6537": "Groupement pastoral", "6538": "Groupement foncier et rural", "6539": "Société civile foncière",
    "6540": "SCI", "6541": "SCI de construction-vente", "6542": "SCI d'attribution",
    "6543": "Société civile coopérative de construction", "6544": "SCI d'accession progressive à la propriété",
    "6551": "Société civile coopérative de consommation", "6554": "Société civile coopérative d'intérêt maritime",
    "6558": "Société civile coopérative entre médecins", "6560": "Autre société civile coopérative",
    "6561": "SCP d'avocats", "6562": "SCP d'avocats aux conseils", "6563": "SCP d'avoués d'appel",
    "6564": "SCP d'huissiers", "6565": "SCP de notaires", "6566": "SCP de commissaires-priseurs",
    "6567": "SCP de greffiers", "6568": "SCP de conseils juridiques",
    "6569": "SCP de commissaires aux comptes", "6571": "SCP de médecins", "6572": "SCP de dentistes",
    "6573": "SCP d'infirmiers", "6574": "SCP de masseurs-kinésithérapeutes",
    "6575": "SCP de directeurs de laboratoire", "6576": "SCP de vétérinaires", "6577": "SCP de géomètres experts",
    "6578": "SCP d'architectes", "6585": "Autre SCP", "6588": "Société civile laitière",
    "6589": "Société civile de moyens", "6595": "Caisse locale de crédit mutuel",
    "6596": "Caisse de crédit agricole mutuel", "6597": "Société civile d'exploitation agricole",
    "6598": "EARL", "6599": "Société civile", "7210": "Commune", "7220": "Département",
    "7230": "Région", "7346": "Communauté de communes", "7348": "Communauté d'agglomération",
    "8110": "Régime général de la Sécurité Sociale", "8210": "Mutuelle", "8290": "Autre organisme mutualiste",
    "8310": "Comité social économique d'entreprise", "8410": "Syndicat de salariés", "8420": "Syndicat patronal",
    "8450": "Ordre professionnel", "8510": "Institution de prévoyance", "8520": "Institution de retraite complémentaire",
    "9110": "Syndicat de copropriété", "9150": "Association syndicale libre", "9210": "Association non déclarée",
    "9220": "Association déclarée", "9221": "Association déclarée d'insertion par l'économique",
    "9222": "Association intermédiaire", "9223": "Groupement d'employeurs",
    "9224": "Association d'avocats à responsabilité professionnelle individuelle",
    "9230": "Association reconnue d'utilité publique", "9240": "Congrégation",
    "9260": "Association de droit local", "9300": "Fondation", "9900": "Autre personne morale de droit privé",
}


@cache
def elf_legal_forms() -> dict[str, str]:
    """ELF code -> legal form label ("2HBR" -> "GmbH", "XTIQ" -> "Corporation")."""
    raw = files("accountree.registry").joinpath("data/elf_legal_forms.csv").read_text(encoding="utf-8")
    return {row["elf_code"]: row["legal_form"] for row in csv.DictReader(io.StringIO(raw))}
