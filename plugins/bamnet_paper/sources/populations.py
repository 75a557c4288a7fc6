"""Known facts about the people in public chest X-ray collections, by source name.

Sources whose data may hold these collections offer them through the
``StatesPopulation`` capability, so the audit states them as facts.
"""

from __future__ import annotations

KNOWN_POPULATIONS: dict[str, dict[str, str]] = {
    "kermany": {
        "age_group": "pediatric",
        "fact": "children aged 1 to 5 (Guangzhou Women and Children's Medical Center; "
                "Kermany et al., Cell 2018)",
    },
    "ieee8023": {
        "age_group": "adult",
        "fact": "a COVID-19 cohort of mostly adults (Cohen et al. covid-chestxray-dataset; "
                "ages in its metadata.csv)",
    },
}


class KnownPopulations:
    """Mixin: ``population_facts()`` from :data:`KNOWN_POPULATIONS` (``StatesPopulation``)."""

    def population_facts(self) -> dict[str, dict[str, str]]:
        """Facts per source name; the audit uses those of sources present in the data."""
        return {name: dict(fact) for name, fact in KNOWN_POPULATIONS.items()}
