from django import template
from django.utils import translation

from onestop.core.models import translate

register = template.Library()


@register.filter
def tr(texts):
    """Pick the active language from a per-language text mapping (catalogue content)."""
    if isinstance(texts, dict):
        return translate(texts, translation.get_language())
    return texts or ""


@register.simple_tag(takes_context=True)
def lang_url(context, code):
    request = context["request"]
    params = request.GET.copy()
    params["lang"] = code
    return f"{request.path}?{params.urlencode()}"


@register.filter
def money(value, currency=""):
    return f"{value} {currency}".strip()
