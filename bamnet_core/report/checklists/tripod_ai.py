"""TRIPOD+AI (BMJ 2024;385:e078378): 27 items, several with sub-items.

Titles are short paraphrases in bamnet's words, numbered as published; read the
published checklist for each item's full wording.
"""

from __future__ import annotations

from . import rules
from .items import Answer, Checklist, Facts, Item, answered, author, partly


def _objectives(facts: Facts) -> Answer:
    return partly("The run develops a model and evaluates it on a held-out test split"
                  + (" and on external data." if facts.record.external else "."),
                  "the study's objectives.", facts.cite(rules.M, "headline.split"))


def _setting(facts: Facts) -> Answer:
    return partly(f"{len(facts.record.audit.by_source) if facts.record.audit else 0} "
                  "source(s) in data-audit.json.", "the care setting, the number and "
                  "location of the centres.", facts.cite(rules.A, "by_source"))


def _predictors(facts: Facts) -> Answer:
    return answered(f"The predictor is the radiograph itself, preprocessed to "
                    f"{facts.get(rules.C, 'preprocess.size')} px; no clinical variable is "
                    "used.", facts.cite(rules.C, "preprocess"))


def _data_use(facts: Facts) -> Answer:
    split = rules.partitions(facts)
    return answered("Training fits the weights, validation picks the epoch and the threshold, "
                    "the test split gives the headline numbers. " + split.text, *split.evidence)


def _heterogeneity_methods(facts: Facts) -> Answer:
    split = facts.record.headline_split
    per_source = facts.record.results(split, "per-source") if split else None
    if not per_source:
        return author("Say how heterogeneity across sources or centres was handled.")
    return partly("Metrics per source, a source probe and leave-one-source-out runs "
                  "(`bamnet loso`) measure heterogeneity across sources.",
                  "how centres were handled in the analysis.",
                  facts.cite(rules.M, f"splits.{split}.evaluators.per-source"))


def _heterogeneity_results(facts: Facts) -> Answer:
    split = facts.record.headline_split
    sources = (facts.record.results(split, "per-source") or {}).get("sources") if split \
        else None
    if not sources:
        return author("Report heterogeneity in performance across centres.")
    return answered(f"Per-source metrics on {split} for {len(sources)} source(s) "
                    "(report.html, per-source plot).",
                    facts.cite(rules.M, f"splits.{split}.evaluators.per-source.sources"))


def _updating(facts: Facts) -> Answer:
    return answered("The model was not updated or recalibrated after training.",
                    facts.cite(rules.M, "threshold"))


def _dev_vs_eval(facts: Facts) -> Answer:
    audit = facts.record.audit
    counts = audit.split.counts if audit and audit.split else {}
    if not counts:
        return author("Compare the development and evaluation data.")
    return partly("Class counts per partition: " + "; ".join(
        f"{n}: {rules.counts_text(by)}" for n, by in counts.items()) + ".",
        "differences in setting, eligibility and predictors between development and "
        "evaluation data.", facts.cite(rules.A, "split.counts"))


def _events(facts: Facts) -> Answer:
    parts, cites = [], []
    for split, found in facts.record.splits.items():
        counts = found.headline.counts if found.headline else None  # whoever measured it
        if found.images is not None:
            positives = counts.positives if counts else "?"
            parts.append(f"{split}: {found.images} images, {found.patients} patients, "
                         f"{positives} positive")
            cites.append(facts.cite(rules.M, f"splits.{split}.images"))
    if not parts:
        return author("Give the participants and outcome events in each analysis.")
    return answered("; ".join(parts) + ".", *cites)


def _full_model(facts: Facts) -> Answer:
    meta = facts.record.meta
    exported = meta.export if meta else None
    if exported:
        return answered("The trained model is exported as ONNX with its preprocessing "
                        "embedded, so anyone can compute predictions.",
                        facts.cite(rules.META, "export"))
    return partly("The trained model is saved as model.keras.",
                  "where readers can obtain it.", facts.cite(rules.C, "backbone"))


def _interpretation(facts: Facts) -> Answer:
    return author("Interpret the results overall and for key subgroups.")


def _poor_input(facts: Facts) -> Answer:
    return partly("An undecodable or damaged image is reported as an error, never scored; "
                  "the ONNX model embeds its preprocessing.",
                  "how poor-quality or missing inputs are handled in the clinic.")


ITEMS = (
    Item("1", "Title: prediction model, population, outcome", lambda f: author(
        "Say in the title that a diagnostic model is developed and evaluated, for whom and "
        "for what.")),
    Item("2", "Abstract (TRIPOD+AI for Abstracts)", lambda f: author("Write the abstract.")),
    Item("3a", "Healthcare context and rationale", lambda f: author(
        "Explain the clinical context and why a model is needed.")),
    Item("3b", "Target population and intended users", lambda f: author(
        "Describe the intended population, place in the care pathway and users.")),
    Item("3c", "Known health inequalities", lambda f: author(
        "Describe known inequalities across groups for this condition.")),
    Item("4", "Objectives: development, evaluation or both", _objectives),
    Item("5a", "Data sources and their representativeness", rules.data_sources),
    Item("5b", "Dates of the data", rules.data_dates),
    Item("6a", "Setting and centres", _setting),
    Item("6b", "Eligibility criteria", rules.eligibility),
    Item("6c", "Treatments received", lambda f: author(
        "Describe any treatment received, if relevant.")),
    Item("7", "Data preparation and quality checks", rules.preprocessing),
    Item("8a", "Outcome and how it was assessed", rules.reference_standard),
    Item("8b", "Outcome assessors", lambda f: author(
        "Say who assessed the outcome, with their qualifications.")),
    Item("8c", "Outcome assessed blind to predictors", lambda f: author(
        "Say whether outcome assessment was blind to the images and other predictors.")),
    Item("9a", "Predictors: choice and definition", _predictors),
    Item("9b", "Predictors assessed blind to outcome", lambda f: author(
        "Say whether the images were acquired or read blind to the outcome.")),
    Item("9c", "Predictor assessors", lambda f: author(
        "Describe who acquired or read the predictors, if relevant.")),
    Item("10", "Sample size", rules.sample_size),
    Item("11", "Missing data", rules.missing_data),
    Item("12a", "How the data were used (splits)", _data_use),
    Item("12b", "How predictors were handled", rules.preprocessing),
    Item("12c", "Model type, building and tuning", rules.training),
    Item("12d", "Heterogeneity across clusters", _heterogeneity_methods),
    Item("12e", "Performance measures", rules.metrics_used),
    Item("12f", "Model updating", _updating),
    Item("12g", "How predictions were calculated in evaluation", rules.output_threshold),
    Item("13", "Class imbalance", rules.imbalance),
    Item("14", "Fairness", rules.fairness),
    Item("15", "Model output and thresholds", rules.output_threshold),
    Item("16", "Development versus evaluation data", _dev_vs_eval),
    Item("17", "Ethics approval", lambda f: author(
        "Name the ethics committee and approval, or why none was needed.")),
    Item("18a", "Funding", lambda f: author("Name the funding and the funder's role.")),
    Item("18b", "Conflicts of interest", lambda f: author("Declare conflicts of interest.")),
    Item("18c", "Protocol", lambda f: author("Say where the protocol can be read.")),
    Item("18d", "Registration", lambda f: author("Give the registration, or say there is none.")),
    Item("18e", "Data sharing", lambda f: partly(
        "The run's sources are named in data-audit.json.",
        "where and under which terms the data can be obtained.",
        f.cite(rules.A, "by_source"))),
    Item("18f", "Code sharing", rules.code_availability),
    Item("19", "Patient and public involvement", lambda f: author(
        "Describe patient and public involvement, or say there was none.")),
    Item("20a", "Flow of participants", rules.flow),
    Item("20b", "Characteristics of participants", rules.demographics),
    Item("20c", "Predictors and outcome across data sets", _dev_vs_eval),
    Item("21", "Participants and events per analysis", _events),
    Item("22", "The full model", _full_model),
    Item("23a", "Performance with intervals, and by subgroup", rules.performance),
    Item("23b", "Heterogeneity in performance", _heterogeneity_results),
    Item("24", "Model updating results", _updating),
    Item("25", "Interpretation", _interpretation),
    Item("26", "Limitations", rules.limitations),
    Item("27a", "Handling poor-quality or missing input", _poor_input),
    Item("27b", "User interaction and expertise needed", lambda f: author(
        "Say what users must do and know to use the model.")),
    Item("27c", "Future research and generalisability", lambda f: author(
        "Describe the next steps and how far the results generalise.")),
)

TRIPOD_AI = Checklist("tripod-ai", "TRIPOD+AI (BMJ 2024;385:e078378)", ITEMS)
