"""Company-name vocabularies of the demo data, per country and naming language.

Names are built from syllables rather than taken from a list of real companies, so that the demo
never ships a real trademark. The syllables are chosen to read like European and American company
names (``Valmont``, ``Kessler``, ``Brightwater``, ``Ferrantelli``, ``Ébano``), with accents, because
accented and multi-script names are exactly what breaks naive matching in real CRMs.
"""

from __future__ import annotations

COUNTRIES: tuple[str, ...] = ("FR", "DE", "GB", "ES", "IT", "US", "BE", "CH")
# Share of group head offices per country: a French-led European CRM with some US/UK accounts.
HOME_WEIGHTS: tuple[float, ...] = (0.30, 0.18, 0.13, 0.09, 0.09, 0.11, 0.05, 0.05)
CURRENCY: dict[str, str] = {
    "FR": "EUR", "DE": "EUR", "ES": "EUR", "IT": "EUR", "BE": "EUR",
    "GB": "GBP", "US": "USD", "CH": "CHF",
}
# Naming language of a country (Belgian and Swiss entities are named in French and German).
LANGUAGE: dict[str, str] = {
    "FR": "fr", "BE": "fr", "DE": "de", "CH": "de", "GB": "en", "US": "en", "ES": "es", "IT": "it",
}
TLD: dict[str, str] = {
    "FR": "fr", "DE": "de", "GB": "co.uk", "ES": "es", "IT": "it", "US": "com", "BE": "be", "CH": "ch",
}
COUNTRY_LOCAL: dict[str, str] = {
    "FR": "France", "DE": "Deutschland", "GB": "UK", "ES": "España", "IT": "Italia",
    "US": "USA", "BE": "Belgique", "CH": "Schweiz",
}

BRAND_SYLLABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fr": (
        ("Val", "Beau", "Mont", "Ros", "Ver", "Clair", "Bel", "Roch", "Lav", "Font", "Mar", "Char",
         "Gren", "Chât", "Sauv", "Aub", "Bois", "Cour", "Lorm", "Éta", "Héri", "Sév", "Brév", "Tré",
         "Vill", "Aur", "Cham", "Dor", "Fal", "Gar", "Jol", "Lam", "Mor", "Péri", "Quin", "Sen"),
        ("mont", "court", "ville", "val", "lac", "fort", "rive", "bourg", "champ", "lière", "ange",
         "ier", "eau", "ard", "oux", "ac", "ès", "elle", "ignac", "ancourt", "onne", "ery", "ais",
         "enne", "aud", "ois"),
    ),
    "de": (
        ("Kess", "Stein", "Wald", "Brun", "Falk", "Hoh", "Lind", "Roth", "Schön", "Eich", "Adler",
         "Greif", "Kron", "Rein", "Mühl", "Tann", "Hart", "Feld", "Wies", "Buch", "Stark", "Licht",
         "Birk", "Löw", "Sonn", "Grün", "Kirch", "Eber", "Thal", "Brem"),
        ("ler", "hoff", "mann", "feld", "brück", "heim", "au", "tal", "hausen", "dorf", "bach",
         "burg", "stein", "wald", "ried", "eck", "horst", "hain", "mühle", "werk", "ling"),
    ),
    "en": (
        ("Bright", "Oak", "Stone", "Silver", "Ash", "Hart", "Kings", "Red", "North", "West", "Clear",
         "Fair", "Elm", "Thorn", "Hollow", "Amber", "Cedar", "Copper", "Har", "Lang", "Mill", "Raven",
         "Shel", "Wick", "Brook", "Wood", "Hazel", "Birch", "Glen", "Marsh"),
        ("water", "field", "bridge", "wood", "ford", "gate", "well", "moor", "brook", "haven",
         "croft", "leigh", "ton", "hurst", "stead", "combe", "mere", "wick", "dale", "hill"),
    ),
    "es": (
        ("É", "Al", "Monte", "Río", "Ser", "Cam", "Cor", "Gal", "Mir", "Tor", "Sol", "Lun", "Arg",
         "Bal", "Cas", "Ebr", "Fuen", "Lor", "Nav", "Oli", "Pal", "Vil", "Zar", "Alb", "Cal"),
        ("bano", "ares", "ero", "ado", "ira", "ón", "ía", "uez", "illa", "ena", "edo", "anda", "ueta",
         "arra", "oza", "ello", "ino", "ales"),
    ),
    "it": (
        ("Ferrant", "Bell", "Mar", "Cas", "Ross", "Vald", "Mont", "Gual", "Ser", "Lomb", "Sant",
         "Cor", "Bran", "Pell", "Torr", "Vitt", "Giann", "Marz", "Cald", "Bar", "Ors", "Rin", "Fen"),
        ("elli", "etti", "ini", "ucci", "ardi", "oni", "ieri", "ato", "esi", "ano", "ella", "otti",
         "aldi", "uzzi", "ente", "iani", "ola"),
    ),
}
# Syllable combinations that happen to be real brands or well-known companies.
BRAND_BLOCKLIST: frozenset[str] = frozenset({
    "Steinhoff", "Wiesmann", "Hartmann", "Hellmann", "Kingsford", "Redwood", "Westfield",
    "Northgate", "Fairfield", "Clearwater", "Kingston", "Thornton", "Westwood", "Santoni",
    "Brookfield", "Hartford", "Northwell", "Belin", "Marini", "Rossini", "Bellini", "Lindau",
    "Château", "Montero", "Caldera", "Ashford", "Millbrook", "Bellucci", "Benetton", "Kirchhoff",
    "Camello", "Orsini", "Torrini",
})
# Appended once a language's syllable space is used up (very large demos), keeping brands unique.
BRAND_QUALIFIERS: tuple[str, ...] = (
    "Nova", "Prime", "Alto", "Nord", "Sud", "Alpha", "Delta", "Omega", "Atlas", "Orion", "Vega",
    "Lyra", "Nexa", "Terra", "Aqua", "Zenit", "Polar", "Sigma", "Opal", "Jade", "Onyx", "Quartz",
    "Cobalt", "Indigo", "Azur", "Civic", "Vista", "Lumen", "Arcade", "Meridian",
)

LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "FR": ("SAS", "SAS", "SA", "SARL", "SASU"),
    "DE": ("GmbH", "GmbH", "AG", "GmbH & Co. KG"),
    "GB": ("Ltd", "Ltd", "Limited"),
    "ES": ("S.L.", "S.L.", "S.A."),
    "IT": ("S.r.l.", "S.r.l.", "S.p.A."),
    "US": ("Inc.", "LLC", "Corp."),
    "BE": ("SA/NV", "SRL/BV"),
    "CH": ("AG", "SA", "GmbH", "Sàrl"),
}
HEAD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "FR": ("Groupe {b} SA", "{b} SA", "{b} Holding SAS", "Groupe {b}"),
    "DE": ("{b} AG", "{b} Holding GmbH", "{b} Industrie AG", "{b} Gruppe AG"),
    "GB": ("{b} Holdings PLC", "{b} Group plc", "{b} PLC", "{b} International Ltd"),
    "ES": ("Grupo {b} S.A.", "Industrias {b} S.L.", "Corporación {b} S.A."),
    "IT": ("{b} S.p.A.", "Gruppo {b} S.p.A.", "{b} Holding S.p.A."),
    "US": ("{b} Corporation", "{b} Inc.", "{b} Holdings Inc.", "{b} International Inc."),
    "BE": ("{b} Group SA/NV", "{b} SA/NV"),
    "CH": ("{b} Holding AG", "{b} AG", "{b} SA"),
}
DIVISIONS: dict[str, tuple[str, ...]] = {
    "fr": ("Énergie", "Services", "Industrie", "Solutions", "Logistique", "Technologies",
           "Distribution", "Ingénierie", "Immobilier", "Finance", "Digital", "Conseil", "Santé",
           "Maintenance", "Équipements", "Environnement", "Matériaux", "Systèmes",
           "Services & Conseil", "Recherche et Développement", "International"),
    "de": ("Energie", "Services", "Industrie", "Technik", "Logistik", "Systeme", "Vertrieb",
           "Anlagenbau", "Immobilien", "Finanz", "Digital", "Beratung", "Medizintechnik", "Wartung",
           "Maschinenbau", "Umwelttechnik", "Werkstoffe", "Service & Montage",
           "Forschung und Entwicklung", "International"),
    "en": ("Energy", "Services", "Industries", "Solutions", "Logistics", "Technologies",
           "Distribution", "Engineering", "Properties", "Capital", "Digital", "Consulting",
           "Healthcare", "Maintenance", "Equipment", "Environmental", "Materials", "Systems",
           "Sales & Marketing", "Research and Development", "International"),
    "es": ("Energía", "Servicios", "Industrial", "Soluciones", "Logística", "Tecnologías",
           "Distribución", "Ingeniería", "Inmobiliaria", "Finanzas", "Digital", "Consultoría",
           "Salud", "Mantenimiento", "Equipos", "Medio Ambiente", "Materiales", "Sistemas",
           "Investigación y Desarrollo", "Internacional"),
    "it": ("Energia", "Servizi", "Industria", "Soluzioni", "Logistica", "Tecnologie",
           "Distribuzione", "Ingegneria", "Immobiliare", "Finanza", "Digital", "Consulenza", "Sanità",
           "Manutenzione", "Impianti", "Ambiente", "Materiali", "Sistemi", "Ricerca e Sviluppo",
           "Internazionale"),
}
BUSINESS_UNITS: dict[str, tuple[str, ...]] = {
    "fr": ("Grands Comptes", "Réseaux", "Mobilité", "Infrastructures", "Data & IA", "Cloud", "Retail",
           "Industrie 4.0", "Services Managés", "Pièces Détachées", "Secteur Public", "Export"),
    "de": ("Großkunden", "Netze", "Mobilität", "Infrastruktur", "Data & KI", "Cloud", "Handel",
           "Industrie 4.0", "Managed Services", "Ersatzteile", "Öffentlicher Sektor", "Export"),
    "en": ("Key Accounts", "Networks", "Mobility", "Infrastructure", "Data & AI", "Cloud", "Retail",
           "Smart Factory", "Managed Services", "Spare Parts", "Public Sector", "Export"),
    "es": ("Grandes Cuentas", "Redes", "Movilidad", "Infraestructuras", "Datos e IA", "Nube",
           "Retail", "Industria 4.0", "Servicios Gestionados", "Recambios", "Sector Público",
           "Exportación"),
    "it": ("Grandi Clienti", "Reti", "Mobilità", "Infrastrutture", "Dati e IA", "Cloud", "Retail",
           "Industria 4.0", "Servizi Gestiti", "Ricambi", "Settore Pubblico", "Export"),
}
# How a site (établissement, Niederlassung) of a country entity is named, per language.
SITE_TEMPLATES: dict[str, str] = {
    "fr": "{base} – Site de {city}",
    "de": "{base} Niederlassung {city}",
    "en": "{base} – {city} Branch",
    "es": "{base} – Delegación {city}",
    "it": "{base} – Filiale di {city}",
}
# Small standalone companies: trade + surname, the bulk of any SMB CRM.
SME_TEMPLATES: dict[str, tuple[str, ...]] = {
    "fr": ("Transports {s}", "Menuiserie {s}", "Société {s} et Fils", "{s} & Associés",
           "Imprimerie {s}", "Cabinet {s}", "Société Nouvelle {s}", "Électricité {s}",
           "Boulangeries {s}", "Chaudronnerie {s}", "Pharmacie {s}", "Garage {s} International"),
    "de": ("{s} & Söhne", "Schreinerei {s}", "Spedition {s}", "{s} Elektrotechnik",
           "Autohaus {s}", "{s} und Partner", "Druckerei {s}", "{s} Metallbau", "Bäckerei {s}",
           "{s} Steuerberatung", "{s} Maschinenhandel", "{s} International"),
    "en": ("{s} & Sons", "{s} Logistics", "{s} and Partners", "{s} Joinery", "{s} Print",
           "{s} Electrical", "{s} Accountancy", "{s} Motors", "{s} Bakeries", "{s} Engineering",
           "{s} Pharmacy", "{s} International"),
    "es": ("Construcciones {s}", "Transportes {s}", "{s} e Hijos", "Talleres {s}",
           "Imprenta {s}", "Asesoría {s}", "Electricidad {s}", "Panaderías {s}", "{s} y Asociados",
           "Farmacia {s}", "Carpintería {s}", "{s} Internacional"),
    "it": ("Costruzioni {s}", "Trasporti {s}", "{s} e Figli", "Officine {s}", "Tipografia {s}",
           "Studio {s}", "Elettrica {s}", "Panifici {s}", "{s} & Associati", "Farmacia {s}",
           "Falegnameria {s}", "{s} Internazionale"),
}
JV_WORDS: tuple[str, ...] = (
    "Energy", "Mobility", "Renewables", "Digital", "Logistics", "Systems", "Services", "Industrial",
)

CITIES: dict[str, tuple[str, ...]] = {
    "FR": ("Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux", "Strasbourg",
           "Rennes", "Grenoble", "Nîmes", "Orléans", "Besançon", "Saint-Étienne", "Clermont-Ferrand"),
    "DE": ("Berlin", "München", "Hamburg", "Köln", "Frankfurt am Main", "Stuttgart", "Düsseldorf",
           "Leipzig", "Nürnberg", "Dresden", "Hannover", "Essen"),
    "GB": ("London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Edinburgh", "Bristol",
           "Liverpool", "Cambridge", "Reading"),
    "ES": ("Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao", "Málaga", "Zaragoza",
           "A Coruña", "Alicante", "Córdoba"),
    "IT": ("Milano", "Roma", "Torino", "Bologna", "Napoli", "Firenze", "Genova", "Verona",
           "Padova", "Bari"),
    "US": ("New York", "Chicago", "San Francisco", "Boston", "Austin", "Atlanta", "Seattle",
           "Denver", "Dallas", "Miami"),
    "BE": ("Bruxelles", "Antwerpen", "Gent", "Liège", "Namur", "Charleroi", "Leuven"),
    "CH": ("Zürich", "Genève", "Basel", "Lausanne", "Bern", "Lugano", "Neuchâtel"),
}
