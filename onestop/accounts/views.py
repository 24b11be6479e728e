from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice


class TokenForm(forms.Form):
    token = forms.CharField(label=_("Code from your authenticator app"), max_length=8,
                            widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}))


@login_required
def two_factor(request):
    """Verify a TOTP code; the first visit enrols a device and shows its set-up link."""
    device = TOTPDevice.objects.filter(user=request.user).first()
    created = False
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="default", confirmed=False)
        created = True
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        verified = match_token(request.user, form.cleaned_data["token"])
        if verified is None and not device.confirmed and device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            verified = device
        if verified is not None:
            otp_login(request, verified)
            target = request.GET.get("next", "/admin/")
            if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
                target = "/admin/"
            return redirect(target)
        form.add_error("token", _("This code is not valid. Check the time on your phone and try again."))
    return render(request, "accounts/two_factor.html", {
        "form": form, "enrol": not device.confirmed, "config_url": device.config_url if not device.confirmed else "",
        "created": created,
    })
