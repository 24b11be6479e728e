"""Small shared model primitives."""

from django.db import models
from django.utils import translation


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class PackSourced(models.Model):
    """A record that a country pack owns. ``archived_at`` is set when the pack drops it."""

    from_pack = models.CharField(max_length=8, blank=True, default="", help_text="Pack that owns this record")
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


def translate(texts: dict | None, language: str | None = None, fallback: str | None = None) -> str:
    """Pick the text for ``language`` (default: active) from a per-language mapping."""
    if not texts:
        return ""
    lang = language or translation.get_language() or ""
    if lang in texts and texts[lang]:
        return texts[lang]
    base = lang.split("-")[0]
    if base in texts and texts[base]:
        return texts[base]
    if fallback and texts.get(fallback):
        return texts[fallback]
    return next(iter(texts.values()), "")
