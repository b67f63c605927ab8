"""Log in with a username, a resident ID number, a unified social credit code or a mobile."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class IdentifierBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        identifier = username.strip().upper() if len(username.strip()) == 18 else username.strip()
        User = get_user_model()
        candidates = list(
            User.objects.filter(
                Q(username=username.strip())
                | Q(applicant__id_number=identifier)
                | Q(applicant__uscc=identifier)
                | Q(mobile=username.strip(), kind=User.Kind.APPLICANT)
            ).distinct()[:2]
        )
        if len(candidates) != 1:
            # Run the hasher anyway so unknown identifiers take as long as wrong passwords.
            User().set_password(password)
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
