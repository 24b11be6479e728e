from django.db import models


class Country(models.Model):
    """A loaded country pack's settings: languages, money, calendar, identity, rules."""

    code = models.CharField(max_length=2, unique=True)
    name = models.JSONField(default=dict)
    languages = models.JSONField(default=list, help_text="[{code, name, rtl}], first is the default")
    currency = models.CharField(max_length=3)
    currency_decimals = models.PositiveSmallIntegerField(default=2)
    time_zone = models.CharField(max_length=64)
    weekend = models.JSONField(default=list)
    holiday_country = models.CharField(max_length=8)
    national_id = models.JSONField(default=dict)
    phone_region = models.CharField(max_length=4)
    rules = models.JSONField(default=dict, help_text="booking, queue and kpi_targets sections of rules.yaml")
    loaded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "countries"

    def __str__(self) -> str:
        return self.code

    @property
    def language_codes(self) -> list[str]:
        return [lang["code"] for lang in self.languages]

    @property
    def default_language(self) -> str:
        return self.languages[0]["code"] if self.languages else "en"

    def calendar(self, centre_code: str | None = None):
        from onestop.centres.selectors import country_calendar

        return country_calendar(self, centre_code=centre_code)
