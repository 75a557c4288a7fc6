"""Built-in dataset sources, one module each."""

from __future__ import annotations

from bamnet_core.contract import hookimpl

from .cohen_covid import CohenCovidSource
from .covid_radiography import CovidRadiographySource
from .dicom_folder import DicomSource
from .image_folder import ImageFolderSource
from .kermany import KermanyCXRSource
from .manifest_csv import ManifestCSVSource
from .synthetic import SyntheticCXRSource


@hookimpl
def register_dataset_sources(register):
    """Register the built-in dataset sources."""
    register("synthetic-cxr", SyntheticCXRSource)
    register("image-folder", ImageFolderSource)
    register("dicom", DicomSource)
    register("manifest-csv", ManifestCSVSource)
    register("cohen-covid", CohenCovidSource)
    register("covid-radiography-db", CovidRadiographySource)
    register("kermany-cxr", KermanyCXRSource)
