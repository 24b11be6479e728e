"""The booking pages' own catalogues: complete for every pack language, compiled from the .po."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.utils import translation

LOCALE = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ["az", "ru", "fa", "ps"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_is_complete_and_its_mo_is_compiled_from_it(lang):
    po = LOCALE / lang / "LC_MESSAGES" / "django.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    untranslated = [
        m.id
        for m in catalog
        if m.id and (not m.string or (isinstance(m.string, tuple) and not all(m.string)))
    ]
    assert untranslated == []
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    assert (po.with_suffix(".mo")).read_bytes() == compiled.getvalue(), (
        "run the catalogue compile step again"
    )


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("az", "Növbə götürün"),
        ("ru", "Записаться на приём"),
        ("fa", "نوبت بگیرید"),
        ("ps", "وخت ونیسئ"),
    ],
)
def test_pages_speak_the_language(lang, text):
    with translation.override(lang):
        assert translation.gettext("Book an appointment") == text
