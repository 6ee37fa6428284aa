"""factory_boy factories bound to the application's session; each build is committed."""

from datetime import UTC, datetime, timedelta

import factory
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.models import Contact, Meeting, MeetingStatus, Organisation, OrganisationKind, User

DEFAULT_PASSWORD = "correct horse battery staple"
# Hashing is deliberately slow; tests share one hash of the default password.
_DEFAULT_HASH = generate_password_hash(DEFAULT_PASSWORD)


class BaseFactory(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    name = factory.Sequence(lambda n: f"Organiser {n}")
    email = factory.Sequence(lambda n: f"organiser{n}@example.org")
    password_hash = _DEFAULT_HASH
    is_admin = False
    active = True


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Centre social {n}")
    kind = OrganisationKind.SOCIAL_CENTRE
    town = "Dijon"
    postcode = "21000"


class ContactFactory(BaseFactory):
    class Meta:
        model = Contact

    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    email = factory.Sequence(lambda n: f"contact{n}@example.org")
    function = "Coordinatrice"
    organisation = factory.SubFactory(OrganisationFactory)


class MeetingFactory(BaseFactory):
    class Meta:
        model = Meeting

    title = factory.Sequence(lambda n: f"Réunion {n}")
    status = MeetingStatus.PUBLISHED
    starts_at = factory.LazyFunction(
        lambda: datetime.now(UTC).replace(microsecond=0) + timedelta(days=14)
    )
    ends_at = factory.LazyAttribute(lambda meeting: meeting.starts_at + timedelta(hours=3))
    timezone = "Europe/Paris"
    venue_name = "Maison des associations"
    venue_address = "2 rue des Corroyeurs"
    venue_postcode = "21000"
    venue_town = "Dijon"
