from django.core.management import call_command


def test_catalogues_exist_for_every_language_and_are_compiled():
    """Fails on a missing, stale or incomplete catalogue (run `make catalogues`)."""
    call_command("compilecatalogues", "--check")
