"""What every run file shares: a ``schema_version``, checked before anything else is read.

Each JSON file of a run folder is one pydantic model (:class:`RunFile`),
written and read only through :meth:`RunFolder.write_model
<bamnet_core.runs.folder.RunFolder.write_model>` and :meth:`RunFolder.read_model
<bamnet_core.runs.folder.RunFolder.read_model>`. A file says which version of its
schema it follows; a reader refuses a version it does not know (a newer bamnet
wrote it) with one line naming the file, and reads a file written before
versions existed (no ``schema_version``) as version 1, after the model's
:meth:`RunFile.migrate` has brought any older shape up to date.

Keys a version does not name are kept as they are (``extra="allow"``): a plugin's
part of a file is the plugin's, and a reader ignores what it does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import RunError

Count = Annotated[int, Field(ge=0)]
"""A number of images, patients or the like: never negative."""


class RunFile(BaseModel):
    """One JSON file of a run folder, at one schema version.

    A typed number is finite (a NaN or an infinity in a run file is damage, refused when
    read), and a count is never negative.
    """

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    CURRENT: ClassVar[int] = 1
    """The schema version this bamnet writes, and the newest it reads."""

    schema_version: int = Field(1, ge=1, description="the version of this file's schema; "
                                "a reader refuses one newer than it knows")

    @classmethod
    def migrate(cls, data: dict[str, Any]) -> dict[str, Any]:
        """An older shape of the file brought to the current one (the default: unchanged)."""
        return data

    @classmethod
    def from_json(cls, data: Any, where: str) -> Self:
        """The model of ``data`` (the file's parsed JSON), read from ``where``.

        A file without ``schema_version`` was written before versions existed: it
        is migrated and read as version 1.

        :raises RunError: not a JSON object, a version this bamnet does not read,
            or a value that does not fit the schema (named by its key).
        """
        if not isinstance(data, dict):
            raise RunError(f"{where} is damaged (not a JSON object)",
                           hint="restore it from a backup, or start a new run")
        version = data.get("schema_version", None)
        if version is None:
            data = {**data, "schema_version": 1}
        elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise RunError(f"{where} has an unknown schema_version {version!r}",
                           hint="restore the file from a backup, or start a new run")
        elif version > cls.CURRENT:
            raise RunError(f"{where} has schema_version {version}, newer than this bamnet "
                           f"reads ({cls.CURRENT})",
                           hint="upgrade bamnet (pip install -U bamnet) to read this run folder")
        try:
            return cls.model_validate(cls.migrate(data))
        except ValidationError as exc:
            problem = exc.errors()[0]
            key = ".".join(str(p) for p in problem["loc"]) or "(the whole file)"
            raise RunError(f"{where} is damaged ({key}: {problem['msg']})",
                           hint="restore the file from a backup, or start a new run") from None

    def to_json(self) -> dict[str, Any]:
        """The file's content as JSON values, exactly what was set (and the version)."""
        return {"schema_version": self.schema_version,
                **self.model_dump(mode="json", by_alias=True, exclude_unset=True,
                                  exclude={"schema_version"})}

    def with_entries(self, entries: Mapping[str, Any]) -> Self:
        """A copy with the top-level ``entries`` set (JSON values, or the parts' models),
        validated: how a writer adds to a file it is building."""
        return self.model_validate({**self.to_json(), **entries})


class Part(BaseModel):
    """A typed part of a run file; keys it does not name are kept; numbers are finite."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)
