from django import forms
from django.utils.translation import gettext_lazy as _


class IdentityForm(forms.Form):
    national_id = forms.CharField(label=_("ID number"), max_length=40)
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    otp = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class LookupForm(forms.Form):
    code = forms.CharField(
        label=_("Booking code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )
    national_id = forms.CharField(label=_("ID number"), max_length=40)


class CheckInForm(forms.Form):
    code = forms.CharField(
        label=_("Booking code"),
        max_length=64,
        widget=forms.TextInput(
            attrs={
                "autocapitalize": "characters",
                "autocomplete": "off",
                "autofocus": True,
                "class": "code-input",
            }
        ),
    )


class ReceptionBookingForm(forms.Form):
    start = forms.CharField(widget=forms.HiddenInput)
    national_id = forms.CharField(label=_("ID number"), max_length=40)
    phone = forms.CharField(
        label=_("Mobile phone (for the SMS, optional)"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )
