from django.utils import translation


def platform(request):
    from .selectors import current_country

    country = getattr(request, "country", None)
    if country is None:
        try:
            country = current_country()
        except Exception:  # database not migrated yet (healthz reports it)
            country = None
    languages = country.languages if country else [{"code": "en", "name": "English", "rtl": False}]
    return {
        "country": country,
        "pack_languages": languages,
        "current_language": translation.get_language(),
    }
