"""CLAIM 2024: the Checklist for Artificial Intelligence in Medical Imaging, 44 items.

Titles are short paraphrases in bamnet's words, numbered as in the 2024 update
(Tejani et al., Radiology: Artificial Intelligence 2024); read the published
checklist for each item's full wording. The 2020 edition had 42 items, numbered
differently from item 11 on.
"""

from __future__ import annotations

from . import rules
from .items import Answer, Checklist, Facts, Item, answered, author, partly


def _title(facts: Facts) -> Answer:
    return author("Say in the title that the study develops a deep-learning classifier of "
                  "chest radiographs.")


def _study_goal(facts: Facts) -> Answer:
    external = bool(facts.record.external)
    return partly("The run develops a model and evaluates it on a held-out test split"
                  + (" and on external data." if external else "."),
                  "the study's goal (model creation, feasibility, non-inferiority, ...).",
                  facts.cite(rules.M, "headline.split"))


def _design(facts: Facts) -> Answer:
    return partly("The run reads images that already exist: a retrospective design.",
                  "whether any data were collected prospectively.")


def _subsets(facts: Facts) -> Answer:
    limit = facts.get(rules.C, "data.limit_per_class")
    if limit is None:
        return answered("No subset was drawn: every listed image of the configured classes "
                        "was used.", facts.cite(rules.C, "data.classes"))
    return answered(f"At most {limit} images per class, whole patients first.",
                    facts.cite(rules.C, "data.limit_per_class"))


def _acquisition(facts: Facts) -> Answer:
    audit = facts.record.audit
    views = ", ".join(audit.by_view) if audit and audit.by_view else ""
    return partly(f"Views recorded: {views}." if views else "No view is recorded.",
                  "the scanners, exposure and protocol of each source.",
                  facts.cite(rules.A, "by_view"))


def _rationale(facts: Facts) -> Answer:
    return author("Explain why this reference standard was chosen.")


def _annotators(facts: Facts) -> Answer:
    return author("Say who assigned the labels and how they were qualified and trained.")


def _tools(facts: Facts) -> Answer:
    return author("Name the annotation tools, if any were used.")


def _variability(facts: Facts) -> Answer:
    audit = facts.record.audit
    deep = audit.deep.label_issues if audit and audit.deep else None
    if deep is not None and deep.status == "done":
        return partly(f"The deep audit flagged {deep.issues} of {deep.images} image(s) as "
                      "likely label issues.", "inter- and intra-reader variability and how "
                      "disagreements were resolved.", facts.cite(rules.A, "deep.label_issues"))
    return author("Report inter- and intra-reader variability and how disagreements were "
                  "resolved.")


def _implications(facts: Facts) -> Answer:
    return author("State the implications for practice and the intended clinical role.")


ITEMS = (
    Item("1", "Title names the AI method", _title),
    Item("2", "Structured abstract", lambda f: author("Write a structured abstract.")),
    Item("3", "Background and intended clinical role",
         lambda f: author("Give the clinical background and the role the model would play.")),
    Item("4", "Objectives and hypotheses", lambda f: author("State objectives and hypotheses.")),
    Item("5", "Prospective or retrospective", _design),
    Item("6", "Study goal", _study_goal),
    Item("7", "Data sources", rules.data_sources),
    Item("8", "Eligibility: how, where and when", rules.eligibility),
    Item("9", "Preprocessing", rules.preprocessing),
    Item("10", "Data subsets", _subsets),
    Item("11", "De-identification", rules.deidentification),
    Item("12", "Missing data", rules.missing_data),
    Item("13", "Image acquisition", _acquisition),
    Item("14", "Reference standard defined", rules.reference_standard),
    Item("15", "Why that reference standard", _rationale),
    Item("16", "Annotators and their qualifications", _annotators),
    Item("17", "Annotation tools", _tools),
    Item("18", "Reader variability", _variability),
    Item("19", "Partitions and their proportions", rules.partitions),
    Item("20", "Level at which partitions are disjoint", rules.disjointness),
    Item("21", "Sample size", rules.sample_size),
    Item("22", "Model description", rules.model),
    Item("23", "Software and versions", rules.software),
    Item("24", "Initialisation of parameters", rules.initialisation),
    Item("25", "Training details", rules.training),
    Item("26", "Selecting the final model", rules.model_selection),
    Item("27", "Ensembling", rules.ensembling),
    Item("28", "Performance metrics", rules.metrics_used),
    Item("29", "Uncertainty and significance", rules.uncertainty),
    Item("30", "Robustness and sensitivity analysis", rules.robustness),
    Item("31", "Explainability", rules.explainability),
    Item("32", "Evaluation on external data", rules.external),
    Item("33", "Flow of patients and images", rules.flow),
    Item("34", "Characteristics of each partition", rules.demographics),
    Item("35", "Performance on every partition", rules.performance),
    Item("36", "Accuracy estimates with their precision", rules.performance),
    Item("37", "Failure analysis", rules.failure_analysis),
    Item("38", "Limitations", rules.limitations),
    Item("39", "Implications for practice", _implications),
    Item("40", "Registration", lambda f: author("Give the registry and registration number, "
                                                "or say the study was not registered.")),
    Item("41", "Protocol", lambda f: author("Say where the full protocol can be read.")),
    Item("42", "Data availability", lambda f: partly(
        "The run's sources are named in data-audit.json.",
        "where and under which terms the data can be obtained.",
        f.cite(rules.A, "by_source"))),
    Item("43", "Code and model availability", rules.code_availability),
    Item("44", "Funding and the funder's role",
         lambda f: author("Name the funding and the funder's role.")),
)

CLAIM = Checklist("claim", "CLAIM 2024 (Checklist for Artificial Intelligence in Medical "
                  "Imaging)", ITEMS)
