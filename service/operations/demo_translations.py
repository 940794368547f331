"""The sample events of the demo in German and French: titles, summaries, descriptions, what
registrants need to know, and their sessions' and agenda items' titles (the Make ICT Fair
series stays in English, as it took place). Loaded through
`service.domain.programme.translations`, like an organiser's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.domain.programme import get_event
from service.domain.programme.translations import TextChange, set_translations


@dataclass(frozen=True)
class Texts:
    title: str
    summary: str
    description: str
    sessions: tuple[str, ...]  # each session's title, in time order
    items: tuple[tuple[str, ...], ...]  # each session's agenda item titles, in time order
    registrant_note: str = ""  # what registrants need to know


_NOTE = {
    "de": "\n\nBeispieldaten: Diese Veranstaltung veranschaulicht den Dienst und ist keine "
          "echte Buchung.",
    "fr": "\n\nDonnées d'exemple : cet événement illustre le service et ne correspond à "
          "aucune réservation réelle.",
}

SAMPLE_TRANSLATIONS: dict[str, dict[str, Texts]] = {
    "procura-plus-seminar-2027": {
        "de": Texts(
            title="Procura+ Seminar 2027 (Beispiel)",
            summary="Das jährliche Treffen des Procura+ Netzwerks: Fachleute aus der Praxis, "
            "Expertinnen und Experten sowie politische Entscheidungsträger zu nachhaltiger "
            "und innovativer Beschaffung.",
            description="Zwei Tage Austausch zwischen den Teilnehmenden von Procura+ und den "
            "Interessengruppen, mit der Verleihung der Procura+ Awards." + _NOTE["de"],
            sessions=("Tag 1: Interessengruppen und Preisverleihung",
                      "Tag 2: Politik und Praxis"),
            items=(("Willkommen zum Procura+ Seminar",
                    "Interessengruppe Kreislauforientierte Beschaffung: Erfahrungsaustausch",
                    "Kaffeepause", "Interessengruppe Marktdialog",
                    "Verleihung der Procura+ Awards"),
                   ("Neues aus der europäischen Politik", "Workshops des Twinning-Programms",
                    "Abschluss")),
        ),
        "fr": Texts(
            title="Séminaire Procura+ 2027 (exemple)",
            summary="La rencontre annuelle du réseau Procura+ : praticiens, experts et "
            "décideurs autour des achats publics durables et innovants.",
            description="Deux jours d'échanges entre les participants de Procura+ et les "
            "groupes d'intérêt, avec la cérémonie de remise des Procura+ Awards." + _NOTE["fr"],
            sessions=("Jour 1 : groupes d'intérêt et remise des prix",
                      "Jour 2 : politiques et pratique"),
            items=(("Bienvenue au séminaire Procura+",
                    "Groupe d'intérêt sur les achats circulaires : retours d'expérience",
                    "Pause café", "Groupe d'intérêt sur le dialogue avec le marché",
                    "Cérémonie de remise des Procura+ Awards"),
                   ("Actualité des politiques européennes", "Ateliers du programme de jumelage",
                    "Clôture")),
        ),
    },
    "citymatch-zurich-recycled-concrete": {
        "de": Texts(
            title="Procura+ CityMatch Zürich zu Recyclingbeton und kreislauforientierter "
            "Beschaffung (Beispiel)",
            summary="Ein Studienbesuch zur Wiederverwendung von Beton in Gebäuden, mit dem "
            "Amt für Hochbauten und dem Umwelt- und Gesundheitsschutz der Stadt Zürich.",
            description="Fachleute aus Zürich – aus Stadtplanung, Facility-Management und "
            "nachhaltiger Beschaffung sowie Anbieter von Beton – stellen ihre Wege zur "
            "Kreislaufwirtschaft vor. Die Zahl der Plätze ist begrenzt: Das "
            "Organisationsteam prüft die Anmeldungen." + _NOTE["de"],
            sessions=("Tag des Studienbesuchs",),
            items=(("Begrüßung durch die Stadt Zürich", "Recyclingbeton in öffentlichen Gebäuden",
                    "Besichtigung: ein Gebäude aus Recyclingbeton",
                    "Erfahrungsaustausch zur kreislauforientierten Beschaffung"),),
            registrant_note="Die Besichtigung führt auf eine Baustelle: Tragen Sie feste "
            "Schuhe; Helme und Westen werden dort gestellt.\nBringen Sie für den Eingang des "
            "Amtshauses III einen Lichtbildausweis mit.",
        ),
        "fr": Texts(
            title="Procura+ CityMatch Zurich : béton recyclé et achats circulaires (exemple)",
            summary="Une visite d'étude sur le réemploi du béton dans les bâtiments, avec les "
            "services des constructions et de la santé et de l'environnement de la Ville de "
            "Zurich.",
            description="Des experts zurichois – urbanistes, gestionnaires de bâtiments, "
            "responsables des achats durables et fournisseurs de béton – présentent leurs "
            "démarches vers une économie circulaire. Les places sont limitées : les "
            "organisateurs examinent les candidatures." + _NOTE["fr"],
            sessions=("Journée de visite d'étude",),
            items=(("Accueil par la Ville de Zurich", "Le béton recyclé dans les bâtiments publics",
                    "Visite de site : un bâtiment en béton recyclé",
                    "Échange entre pairs sur les achats circulaires"),),
            registrant_note="La visite se rend sur un chantier : portez des chaussures "
            "solides ; casques et gilets sont fournis sur place.\nApportez une pièce "
            "d'identité avec photo pour l'entrée de l'Amtshaus III.",
        ),
    },
    "meet-your-buyer-haarlem-fair-circular-ict": {
        "de": Texts(
            title="Meet your Buyer: Gemeinde Haarlem zu fairer und kreislauffähiger IKT "
            "(Beispiel)",
            summary="Ein Marktdialog vor einer anstehenden Ausschreibung für faire und "
            "kreislauffähige IKT-Hardware am Arbeitsplatz.",
            description="Die Gemeinde Haarlem bespricht mit Anbietern, wie sich faire "
            "Arbeitsplatz-Hardware liefern lässt und ob die vorgeschlagenen Kriterien zu "
            "sozialer Verantwortung und Kreislauffähigkeit umsetzbar oder zu anspruchsvoll "
            "sind." + _NOTE["de"],
            sessions=("Marktdialog",),
            items=(("Die anstehende Ausschreibung und ihre Kriterien", "Dialog mit den Anbietern",
                    "Nächste Schritte"),),
        ),
        "fr": Texts(
            title="Meet your Buyer : la municipalité de Haarlem et les TIC équitables et "
            "circulaires (exemple)",
            summary="Un dialogue avec le marché avant un prochain appel d'offres pour du "
            "matériel informatique de bureau équitable et circulaire.",
            description="La municipalité de Haarlem rencontre des fournisseurs pour examiner "
            "comment fournir du matériel de bureau équitable, et si les critères proposés en "
            "matière de responsabilité sociale et de circularité sont réalistes ou trop "
            "ambitieux." + _NOTE["fr"],
            sessions=("Dialogue avec le marché",),
            items=(("Le prochain appel d'offres et ses critères", "Dialogue avec les fournisseurs",
                    "Prochaines étapes"),),
        ),
    },
    "circular-ict-webinar-series-2027": {
        "de": Texts(
            title="Procura+ Webinarreihe zur kreislauforientierten IKT-Beschaffung 2027 "
            "(Beispiel)",
            summary="Zwei Webinare von je 90 Minuten, eines im Winter, eines zur Sommerzeit: "
            "die Lebensdauer von IKT-Hardware durch die Beschaffung verlängern.",
            description="Beschafferinnen und Beschaffer berichten, wie sie aufbereitete Geräte "
            "einkaufen, Reparierbarkeit verlangen und die Rücknahme am Ende der Nutzung "
            "organisieren. Melden Sie sich für die ganze Reihe oder für eine einzelne Sitzung "
            "an." + _NOTE["de"],
            sessions=("Aufbereitete Geräte beschaffen: Erfahrungen aus den ersten "
                      "Ausschreibungen",
                      "Reparierbarkeit und Rücknahme im Vertragsmanagement"),
            items=(("Begrüßung und Einführung", "Aufbereitete Laptops in einer Rahmenvereinbarung",
                    "Fragen und Diskussion"),
                   ("Begrüßung und Einführung",
                    "Anbieter beim Wort nehmen: Rücknahmezusagen durchsetzen",
                    "Fragen und Diskussion")),
        ),
        "fr": Texts(
            title="Série de webinaires Procura+ sur les achats circulaires de TIC 2027 "
            "(exemple)",
            summary="Deux webinaires de 90 minutes, l'un en hiver, l'autre à l'heure d'été : "
            "prolonger la durée de vie du matériel informatique grâce aux achats publics.",
            description="Des acheteurs publics expliquent comment ils achètent du matériel "
            "reconditionné, exigent la réparabilité et organisent la reprise en fin "
            "d'utilisation. Inscrivez-vous à toute la série ou à une seule session."
            + _NOTE["fr"],
            sessions=("Acheter reconditionné : les leçons des premiers appels d'offres",
                      "Réparabilité et reprise dans la gestion des contrats"),
            items=(("Accueil et introduction",
                    "Des ordinateurs portables reconditionnés dans un accord-cadre",
                    "Questions-réponses et discussion"),
                   ("Accueil et introduction",
                    "Faire tenir aux fournisseurs leurs engagements de reprise",
                    "Questions-réponses et discussion")),
        ),
    },
}


async def load_sample_translations(db: AsyncSession, event_id: int, slug: str, *,
                                   now: datetime) -> None:
    """The German and French texts of a sample event (nothing for other events)."""
    languages = SAMPLE_TRANSLATIONS.get(slug)
    if not languages:
        return
    event = await get_event(db, event_id)
    changes: list[TextChange] = []
    for language, texts in languages.items():
        for field in ("title", "summary", "description", "registrant_note"):
            if getattr(texts, field):
                changes.append(TextChange(event, language, field, getattr(texts, field),
                                          f"{slug}.{language}.{field}"))
        for session, title, items in zip(event.sessions, texts.sessions, texts.items,
                                         strict=True):
            changes.append(TextChange(session, language, "title", title,
                                      f"{slug}.{language}.session"))
            for item, item_title in zip(session.agenda_items, items, strict=True):
                changes.append(TextChange(item, language, "title", item_title,
                                          f"{slug}.{language}.item"))
    await set_translations(db, event_id, changes, now=now)
