"""People vocabularies: contact names per language, job titles with their usual buying role, reps.

Titles come in the local language and in English (international groups use both), and each title
carries the buying role it most often plays, so that org charts look like real account maps
(a CFO as economic buyer, a CRM manager as champion, a security officer as blocker).
"""

from __future__ import annotations

FIRST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": ("Claire", "Julien", "Émilie", "Sébastien", "Hélène", "François", "Chloé", "Théo", "Maëlle",
           "Jérôme", "Cécile", "Benoît", "Amélie", "Léa", "Raphaël", "Agnès", "Aurélien", "Inès",
           "Noémie", "Étienne", "Mathieu", "Camille", "Nicolas", "Sophie", "Thomas", "Élodie",
           "Grégoire", "Anaïs", "Loïc", "Véronique"),
    "de": ("Lukas", "Jürgen", "Sabine", "Katrin", "Matthias", "Jörg", "Anja", "Tobias", "Stefanie",
           "Björn", "Günther", "Birgit", "Maximilian", "Jana", "Sören", "Uwe", "Ute", "Florian", "Lena",
           "Franziska", "Dieter", "Kerstin", "Markus", "Silke", "Thorsten", "Nadine", "Jens", "Anke",
           "Henrik", "Mareike"),
    "en": ("Oliver", "Charlotte", "James", "Amelia", "Harry", "Emily", "George", "Sophie", "Jack",
           "Olivia", "William", "Grace", "Thomas", "Chloe", "Daniel", "Hannah", "Michael", "Jessica",
           "David", "Laura", "Samuel", "Rachel", "Benjamin", "Megan", "Matthew", "Rebecca", "Andrew",
           "Lucy", "Christopher", "Zoë"),
    "es": ("José", "María", "Lucía", "Javier", "Álvaro", "Sofía", "Pablo", "Carmen", "Andrés", "Marta",
           "Sergio", "Elena", "Raúl", "Beatriz", "Jesús", "Inés", "Rubén", "Patricia", "Ángel", "Nuria",
           "Iñigo", "Begoña", "Adrián", "Cristina", "Óscar", "Rocío", "Hugo", "Alba", "Jorge", "Irene"),
    "it": ("Giulia", "Marco", "Alessandro", "Francesca", "Luca", "Chiara", "Matteo", "Sara", "Lorenzo",
           "Elena", "Davide", "Federica", "Niccolò", "Martina", "Andrea", "Giorgia", "Simone",
           "Alessia", "Riccardo", "Valentina", "Gabriele", "Ilaria", "Tommaso", "Silvia", "Stefano",
           "Paola", "Fabio", "Elisa", "Michele", "Beatrice"),
}
LAST_NAMES: dict[str, tuple[str, ...]] = {
    "fr": ("Dubois", "Lefèvre", "Martin", "Bernard", "Moreau", "Laurent", "Girard", "Rousseau",
           "Fournier", "Mercier", "Blanchard", "Lemaître", "Chevalier", "Gauthier", "Faure", "Perrin",
           "Morel", "Guérin", "Bérenger", "Lécuyer", "Châtelain", "Besnard", "Rivière", "Bonnet",
           "Dupré", "Marchand", "Lacroix", "Fontaine", "Roussel", "Noël", "Barbier", "Caron",
           "Brunet", "Renaud", "Masson", "Picard", "Aubert", "Leclerc", "Vidal", "Hébert"),
    "de": ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz",
           "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann",
           "Schwarz", "Zimmermann", "Braun", "Krüger", "Hofmann", "Lange", "Schmitt", "Werner",
           "Krause", "Köhler", "Lehmann", "Weiß", "Günther", "Böhm", "Vogel", "Jäger", "Groß",
           "Sommer", "Hübner", "Ziegler", "Brandt", "Franke"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson",
           "Wright", "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood",
           "Jackson", "Clarke", "Patel", "Khan", "Lewis", "Harris", "Martin", "Cooper", "Hughes",
           "Edwards", "Turner", "O'Brien", "Murphy", "Baker", "Carter", "Mitchell", "Parker",
           "Bennett", "Reid", "Morgan", "Price", "Ward"),
    "es": ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez",
           "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
           "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos",
           "Gil", "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado",
           "Castro", "Ortiz", "Rubio", "Marín", "Sanz", "Núñez"),
    "it": ("Rossi", "Russo", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno",
           "Gallo", "Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti",
           "Barbieri", "Fontana", "Santoro", "Mariani", "Rinaldi", "Caruso", "Galli", "Leone",
           "Longo", "Gentile", "Martinelli", "Vitale", "Serra", "Coppola", "De Santis", "D'Angelo",
           "Marchetti", "Parisi", "Villa", "Conte", "Ferri", "Fabbri"),
}
LANGS: tuple[str, ...] = ("fr", "de", "en", "es", "it")

BUYING_ROLES: tuple[str, ...] = (
    "economic_buyer", "champion", "influencer", "user", "buyer", "blocker", "other",
)
# (title, usual buying role) per language, by seniority tier: 0 = top, 1 = C-level and
# directors, 2 = managers and users. The first contact of an account is tier 0.
TITLES: dict[int, dict[str, tuple[tuple[str, str], ...]]] = {
    0: {
        "fr": (("Directeur Général", "economic_buyer"), ("Présidente-Directrice Générale", "economic_buyer")),
        "de": (("Geschäftsführer", "economic_buyer"), ("Vorstandsvorsitzende", "economic_buyer")),
        "en": (("CEO", "economic_buyer"), ("Managing Director", "economic_buyer")),
        "es": (("Director General", "economic_buyer"), ("Consejera Delegada", "economic_buyer")),
        "it": (("Amministratore Delegato", "economic_buyer"), ("Direttrice Generale", "economic_buyer")),
    },
    1: {
        "fr": (("Directeur Administratif et Financier", "economic_buyer"), ("DSI", "influencer"),
               ("Directrice des Achats", "buyer"), ("Directeur Marketing", "champion"),
               ("Directrice Commerciale", "influencer"), ("Directeur des Opérations", "influencer")),
        "de": (("Finanzvorstand", "economic_buyer"), ("IT-Leiter", "influencer"),
               ("Leiterin Einkauf", "buyer"), ("Marketingleiter", "champion"),
               ("Vertriebsleiterin", "influencer"), ("Leiter Operations", "influencer")),
        "en": (("CFO", "economic_buyer"), ("CIO", "influencer"), ("Head of Procurement", "buyer"),
               ("CMO", "champion"), ("VP Sales", "influencer"), ("COO", "influencer"),
               ("CTO", "influencer")),
        "es": (("Director Financiero", "economic_buyer"), ("Director de Sistemas", "influencer"),
               ("Directora de Compras", "buyer"), ("Director de Marketing", "champion"),
               ("Directora Comercial", "influencer")),
        "it": (("Direttore Finanziario", "economic_buyer"), ("Responsabile IT", "influencer"),
               ("Direttrice Acquisti", "buyer"), ("Direttore Marketing", "champion"),
               ("Direttore Commerciale", "influencer")),
    },
    2: {
        "fr": (("Responsable des Achats", "buyer"), ("Chef de projet IT", "user"),
               ("Responsable CRM", "champion"), ("Contrôleuse de gestion", "user"),
               ("Responsable Marketing Digital", "user"), ("Ingénieur Méthodes", "user"),
               ("Juriste", "blocker"), ("RSSI", "blocker"), ("Assistante de direction", "other")),
        "de": (("Einkäufer", "buyer"), ("IT-Projektleiterin", "user"), ("CRM-Manager", "champion"),
               ("Controller", "user"), ("Online-Marketing-Managerin", "user"),
               ("Produktionsleiter", "user"), ("Syndikusanwalt", "blocker"),
               ("IT-Sicherheitsbeauftragter", "blocker"), ("Assistenz der Geschäftsführung", "other")),
        "en": (("Procurement Manager", "buyer"), ("IT Project Manager", "user"),
               ("CRM Manager", "champion"), ("Financial Controller", "user"),
               ("Digital Marketing Manager", "user"), ("Operations Manager", "user"),
               ("Legal Counsel", "blocker"), ("Information Security Officer", "blocker"),
               ("Sales Operations Analyst", "user"), ("Executive Assistant", "other")),
        "es": (("Responsable de Compras", "buyer"), ("Jefa de Proyecto IT", "user"),
               ("Responsable de CRM", "champion"), ("Controller Financiero", "user"),
               ("Responsable de Marketing Digital", "user"), ("Asesora Jurídica", "blocker"),
               ("Responsable de Seguridad", "blocker")),
        "it": (("Responsabile Acquisti", "buyer"), ("Project Manager IT", "user"),
               ("Responsabile CRM", "champion"), ("Controller", "user"),
               ("Responsabile Marketing Digitale", "user"), ("Ufficio Legale", "blocker"),
               ("Responsabile Sicurezza IT", "blocker")),
    },
}

# The seller's own sales reps (account and deal owners).
SALES_REPS: tuple[str, ...] = (
    "Claire Dubois", "Julien Mercier", "Sophie Laurent", "Thomas Girard", "Camille Faure",
    "Markus Weber", "Anja Krüger", "Oliver Hughes", "Emily Carter", "Lucía Navarro",
    "Marco Bianchi", "Hélène Rousseau", "Nicolas Perrin", "Élodie Chevalier", "Jens Hoffmann",
    "Rachel Bennett", "Álvaro Ruiz", "Chiara Romano", "Benoît Lacroix", "Léa Fontaine",
    "Matthias Becker", "Grace Turner", "Inès Morel", "Tobias Lange", "Aurélien Masson",
)
