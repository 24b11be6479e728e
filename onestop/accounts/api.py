from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from onestop.core.problems import DomainError


class TokenRequest(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=256, trim_whitespace=False)


class LoginThrottle(AnonRateThrottle):
    rate = "30/min"


class TokenView(APIView):
    """Exchange a staff username and password for an API token."""

    authentication_classes: list = []
    throttle_classes = [LoginThrottle]

    @extend_schema(request=TokenRequest, responses=inline_serializer("TokenResponse", {"token": serializers.CharField()}))
    def post(self, request):
        data = TokenRequest(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(request, username=data.validated_data["username"], password=data.validated_data["password"])
        if user is None or not user.is_active:
            raise DomainError("Unknown username or wrong password.", field="password", code="bad_credentials",
                              status_code=400)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
