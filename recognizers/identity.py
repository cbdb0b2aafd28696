"""Identity data: US SSNs, dates of birth, driver's licence numbers, and street addresses.

Most of these are digits that mean nothing without a label (a bare 9-digit number, a date, a
licence number), so their patterns carry the label and report only the value after it. Street
addresses are found by shape: a house number plus capitalised words plus a street word
(`1600 Pennsylvania Avenue`), or a street word plus a house number (`Hauptstraße 5`,
`Rue de la Paix 12`), or after a label such as `address:` or `lives at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import re2

from recognizers.base import PatternRecognizer, Spans

# A candidate must not continue a longer token on the left.
_LEFT_EDGE = r"(?:^|[^\w.+/-])"
# Words between a label and its value: `SSN: `, `number is `, `"dob": "`.
_LABEL_GAP = r"[^\w\n]{0,6}(?:(?:is|was|on|no|nr|number|of|#)[^\w\n]{1,4}){0,2}"

# ---------------------------------------------------------------------------------------------
# US Social Security numbers
# ---------------------------------------------------------------------------------------------


def is_ssn(value: str) -> bool:
    """SSA rules: one separator kind, area not 000/666/9xx, group not 00, serial not 0000."""
    separators = {c for c in value if not c.isdigit()}
    digits = "".join(c for c in value if c.isdigit())
    if len(separators) > 1 or len(digits) != 9:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return len(set(digits)) > 1


_SSN_CONTEXT = (
    r"(?i)(?:\b(?:ssns?|social[ _-]?security(?:[ _-]?(?:number|num|no|nr))?|social[ _-]?sec)\b"
    r"|\bss#)"
)

# ---------------------------------------------------------------------------------------------
# Dates of birth
# ---------------------------------------------------------------------------------------------

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY_SUFFIX = r"(?:st|nd|rd|th)?"
_DATE = (
    r"(?:\d{4}[./-]\d{1,2}[./-]\d{1,2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}"
    rf"|\d{{1,2}}{_DAY_SUFFIX}(?: of)?[ -]{_MONTH},?[ -]\d{{4}}"
    rf"|{_MONTH}[ -]\d{{1,2}}{_DAY_SUFFIX},?[ -]\d{{4}}"
    rf"|{_MONTH}[ -]\d{{1,2}}{_DAY_SUFFIX}"
    rf"|\d{{1,2}}{_DAY_SUFFIX}(?: of)?[ -]{_MONTH}"
    r"|(?:19|20)\d{6})\b"
)
_BIRTH_CONTEXT = (
    r"(?i)(?:\bdob|\bd\.o\.b\.?|\bdate[ _-]?of[ _-]?birth|\bbirth[ _-]?(?:date|day)|\bbirthdate"
    r"|\bborn(?:[ _-]?(?:on|date))?|\bgeburtsdatum|\bgeboren(?: am)?|\bdate de naissance"
    r"|\bné(?:e)? le|\bfecha de nacimiento|\bdata di nascita)"
)
_BIRTH_WORDS = (
    "dob", "d.o.b", "birth", "born", "geburt", "geboren", "naissance", "né", "nacimiento",
    "nascita",
)  # fmt: skip
_NUMBERS = re2.compile(r"\d+")


def _plausible_day_month(first: int, second: int) -> bool:
    """Either order (US month/day or European day/month) is a real calendar position."""
    return (1 <= first <= 12 and 1 <= second <= 31) or (1 <= second <= 12 and 1 <= first <= 31)


def is_birth_date(value: str) -> bool:
    """A calendar-plausible date; years (when given) between 1900 and 2099."""
    numbers = [m.group(0) for m in _NUMBERS.finditer(value.split("T", maxsplit=1)[0])]
    if len(numbers) == 1 and len(numbers[0]) == 8:  # 19900115
        compact = numbers[0]
        numbers = [compact[:4], compact[4:6], compact[6:]]
    if len(numbers) == 3:
        if len(numbers[0]) == 4:
            year, first, second = numbers
            return 1900 <= int(year) <= 2099 and 1 <= int(first) <= 12 and 1 <= int(second) <= 31
        year = numbers[2]
        if len(year) == 4 and not 1900 <= int(year) <= 2099:
            return False
        return _plausible_day_month(int(numbers[0]), int(numbers[1]))
    # Month-name forms: day (and maybe year) are the numbers.
    day = int(numbers[0]) if numbers else 0
    if len(numbers) == 2 and not 1900 <= int(numbers[1]) <= 2099:
        return False
    return 1 <= day <= 31


# ---------------------------------------------------------------------------------------------
# US driver's licence (context only: formats vary by state and overlap with every other id)
# ---------------------------------------------------------------------------------------------

_LICENSE_CONTEXT = (
    r"(?i)(?:(?:\bdriver'?s?|\bdriving)[ _-]?licen[cs]es?(?:[ _-]?(?:number|num|no\.?|nr|#|id))?"
    # a bare `dl` is a download or a git topic prefix (`dl/t5520-fix`); it needs its `#`/`no`
    r"|\bdl[ _-]?(?:number|num|no\.?|nr|#|id))"
)


def is_driver_license(value: str) -> bool:
    """5-20 characters with at least four digits; not a filler like `0000-0000`."""
    compact = value.replace("-", "").replace(" ", "")
    digits = sum(c.isdigit() for c in compact)
    return 5 <= len(compact) <= 20 and digits >= 4 and len(set(compact)) > 2


# ---------------------------------------------------------------------------------------------
# Street addresses (entity LOCATION)
# ---------------------------------------------------------------------------------------------
# RE2's `\b` is ASCII-only, so before words that may start with `Þ` or `Λ` the patterns consume
# one explicit non-letter instead. Patterns run in multi-line mode: an address block may continue
# over the following lines (unit, city, country and postcode), each line checked whole.

_EDGE = r"(?:^|[^\p{L}\p{N}_.'\x{2019}/-])"
# Quote marks or bullets at the start of a continued line (`> Suite 5` in a quoted e-mail).
_LINE_LEAD = r"[ \t]*(?:[>?*•-]+[ \t]*)?"


def _cased(*words: str) -> str:
    """`Street` -> `Street|STREET`: addresses come title-cased or shouted."""
    forms: list[str] = []
    for word in words:
        forms += [word, word.upper()]
    return "|".join(re2.escape(form) for form in dict.fromkeys(forms))


# English street words that are rarely anything else after "<number> <Capitalised word>".
# Left out on purpose, because logs say `3 Dry Run`, `2 Static Route`, `4 Event Loop`,
# `5 Random Walk`, `1 Table Row`, `3 Shortest Path`: Run, Route, Loop, Walk, Row, Path.
_US_STREET_WORDS = _cased(
    "Street", "St", "Str", "Avenue", "Ave", "Av", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
    "Drive", "Dr", "Way", "Court", "Ct", "Plaza", "Plz", "Place", "Pl", "Terrace", "Ter", "Terr",
    "Circle", "Cir", "Parkway", "Pkwy", "Highway", "Hwy", "Square", "Sq", "Trail", "Trl",
    "Crescent", "Cres", "Close", "Alley", "Pike", "Ridge", "Crossing", "Expressway", "Expy",
    "Freeway", "Fwy", "Turnpike", "Tpke", "Causeway", "Esplanade", "Quay", "Parade", "Promenade",
    "Mews", "Gardens", "Grove", "Heights", "Hts", "Hill", "Green", "Commons", "Vale", "Wynd",
    "Crest", "Glen", "Hollow", "Creek", "Park",
) + "|street|avenue|road|lane|drive|boulevard|str"  # fmt: skip
# Capitalised name word (`Kimberly`, `McPherson`, `O'Neil`, `d'Ouchy`, `St.`) or an ordinal.
_NAME_WORD = r"(?:(?:[dl]['\x{2019}])?\p{Lu}[\p{L}'\x{2019}.-]*|\d{1,3}(?:st|nd|rd|th))"
# A trailing `.5` is swallowed so the validator can reject `Kubernetes 1.28` as a whole.
_HOUSE_NUMBER = r"\d{1,4}[a-zA-Z]?(?:[/-]\d{1,4})?(?:\.\d+)*"
_BUILDING_NUMBER = r"(?:\d{1,6}[ \t]+)?"
# `Apt. 4B`, `Suite 100`, `Unit #12`, `Flat A`: the designator ends at a dot or a space, so
# `Stensås` is not `Ste` + `ns`.
_UNIT_ID = r"(?:\.[ \t]?|[ \t])#?(?:\d[A-Za-z0-9-]{0,5}|[A-Z]\d{0,4})\b"
_UNIT = (
    r"(?:(?:,?[ \t]{1,3}|[ \t]*\n" + _LINE_LEAD + r")"
    r"(?:Apt|APT|apt|Apartment|Suite|SUITE|suite|Ste|Unit|Flat|Fl|Floor|Rm|Room|Bldg)"
    rf"{_UNIT_ID}){{0,2}}"
)
_US_STATES = (
    "AL|AK|AZ|AR|CA|CO|CT|DE|DC|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH"
    "|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|PR|GU|VI|AS|MP"
)
_PLACE = r"\p{Lu}[\p{L}'.-]*(?:[ \t]\p{Lu}[\p{L}'.-]*){0,2}"
_POSTCODE = r"\d{4,5}(?:-\d{4})?"
# `, Springfield, IL 62704`, `, 10115 Berlin`, `, Berlin, Germany`.
_SAME_LINE_TAIL = (
    rf"(?:,?[ \t]+{_PLACE},?[ \t]+(?:{_US_STATES})[ \t]+{_POSTCODE}\b"
    rf"|,[ \t]*{_POSTCODE}[ \t]+{_PLACE}"
    rf"|(?:,[ \t]*{_PLACE}){{1,2}}(?:[ \t]+{_POSTCODE}\b)?)?"
)
# Whole following lines that look like the rest of an address block: `Grand Rapids`,
# `, CO`, `United States 21959`, `SCHEIBBS, NO 14908`, ` 70079`.
_BLOCK_LINE = (
    r"(?:,[ \t]?)?(?:\p{Lu}[\p{L}'.()-]*(?:[ \t]\p{L}[\p{L}'.()-]*){0,3}"
    rf"(?:,[ \t]?\p{{Lu}}{{2,3}})?(?:[ \t]+{_POSTCODE})?|{_POSTCODE})"
)
_BLOCK_TAIL = rf"(?:[ \t]*\n{_LINE_LEAD}{_BLOCK_LINE}[ \t]*$){{0,3}}"
_ADDRESS_END = rf"{_UNIT}{_SAME_LINE_TAIL}{_BLOCK_TAIL}"

_US_STREET = (
    rf"{_BUILDING_NUMBER}\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?[ \t]+(?:{_NAME_WORD}[ \t]+){{1,4}}"
    rf"(?:{_US_STREET_WORDS})\b\.?(?:[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?"
)

# Street words glued to the name. Distinctive ones may follow a lower-case initial
# (`hersnapvej 18`); short ones that end ordinary words need a capital (`Laukaantie 80`).
_DISTINCT_SUFFIX = (
    r"(?:straße|strasse|gasse|platz|allee|chaussee|graben|katu|kuja|polku|väylä|vej|vænget"
    r"|stræde|plads|gatan|gata|vägen|gränd|torget|veien|vegen|straat|laan|plein|gracht|dijk"
    r"|steeg|singel|braut|stræti|straeti|vegur|stígur|tänav|maantee|puiestee)"
)
# Czech/Slovak possessive street names (`Pivovarská`, `Dobrovského`) belong here too.
_SHORT_SUFFIX = (
    r"(?:weg|damm|ufer|steig|pfad|tie|kaari|gade|torv|väg|vei|kade|ská|ské|ského|ého|ová|cká|ní)"
)
# Street words written as their own word after the name (German, Dutch, Hungarian, Nordic).
_SEPARATE_SUFFIX = (
    r"(?:Straße|Strasse|Str\.|Gasse|Weg|Allee|Platz|Damm|Ufer|Chaussee|Baan|Laan|Straat|Plein"
    r"|Dijk|Kade|Gracht|Singel|utca|u\.|út|útja|tér|körút|köz|fasor|sor|terrasse|allé|plass"
    r"|vei|veg|gata|gatan|väg|vägen|gränd)"
)
_SUFFIX_STREET = (
    rf"{_BUILDING_NUMBER}"
    rf"(?:(?:\p{{Lu}}[\p{{L}}.-]*[ \t]+){{0,2}}"
    rf"(?:\p{{L}}+{_DISTINCT_SUFFIX}|\p{{Lu}}\p{{L}}{{2,}}{_SHORT_SUFFIX})"
    rf"|\p{{Lu}}[\p{{L}}.-]*(?:[ \t]+\p{{L}}[\p{{L}}.-]*){{0,2}}[ \t]+{_SEPARATE_SUFFIX})"
    rf"[ \t]+{_HOUSE_NUMBER}"
)

# Street words that come first (Romance, Slavic, Greek): `Rua do Arenque 1634`.
_PREFIX_WORDS = (
    r"(?:Rue|Rua|Rúa|Via|Viale|Vicolo|Piazza|Piazzale|Piazzetta|Corso|Largo|Contrada|Borgo"
    r"|Lungomare|Strada|Calle|C/|Avenida|Avda\.?|Av\.|Avenue|Boulevard|Bd\.?|Chemin|Place|Plaza"
    r"|Praça|Travessa|Carrer|Paseo|Passeig|Camino|Carretera|Ronda|Quai|Impasse|Allée|ul\.|ulica"
    r"|al\.|aleja|Ulitsa|Prospekt|náměstí|nám\.|trg|Οδός|Λεωφόρος|Λ\.|Πλατεία)"
)
_PARTICLE = (
    r"(?:de|la|le|les|du|des|del|della|delle|dei|degli|di|da|do|dos|das|e|y|i|am|an|der|van"
    r"|von|z)"
)
_PREFIX_STREET = (
    rf"{_BUILDING_NUMBER}{_PREFIX_WORDS}[ \t]+"
    rf"(?:(?:{_PARTICLE}|{_NAME_WORD}|\d{{1,4}})[ \t]+){{0,5}}{_NAME_WORD},?[ \t]+{_HOUSE_NUMBER}"
)
# Number first (`12 rue de la Paix`, `5 Via Roma`); after `rue`/`rua`/`calle`/`avenida` the
# name may be lower-case, those words mean nothing else.
_NUMBER_FIRST_STREET = (
    r"\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+"
    rf"(?:(?:[Rr]ue|[Rr]ua|[Rr]úa|[Cc]alle|[Aa]venida)[ \t]+(?:{_PARTICLE}[ \t]+){{0,3}}"
    rf"\p{{L}}[\p{{L}}'\x{2019}.-]*(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_NAME_WORD}){{0,3}}"
    r"|(?:[Aa]venue|[Bb]oulevard|[Pp]lace|[Cc]hemin|[Aa]llée|[Ii]mpasse|[Qq]uai|Route|Via|Viale)"
    r"[ \t]+"
    rf"(?:{_PARTICLE}[ \t]+){{0,3}}{_NAME_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_NAME_WORD}){{0,3}})"
)
_PO_BOX = (
    r"(?i:(?:p\.?[ \t]?o\.?[ \t]?box|post(?:al)?[ \t]?(?:office[ \t]?)?box|postbox|postfach"
    r"|apartado(?: postal)?|caixa postal))[ \t]*#?\d{1,6}\b"
)
# US military mail: `PSC 1234, Box 5678` / `Unit 4719 Box 7394`, then `APO AE 09012`.
_MILITARY = (
    r"(?i:(?:(?:psc|cmr)[ \t]\d{1,5},?[ \t]box[ \t]\d{1,5}(?:\s{1,3}(?:apo|fpo|dpo)[ \t]"
    r"(?:aa|ae|ap)[ \t]\d{5})?|unit[ \t]\d{1,5},?[ \t]box[ \t]\d{1,5}\s{1,3}(?:apo|fpo|dpo)[ \t]"
    r"(?:aa|ae|ap)[ \t]\d{5}|(?:apo|fpo|dpo)[ \t](?:aa|ae|ap)[ \t]\d{5}))\b"
)
# After an explicit label, accept a looser shape: `Maneeži 75`, `5366 Pivovarská 276`.
_ADDRESS_CONTEXT = (
    r"(?i:\b(?:(?:home|street|postal|mailing|billing|shipping|delivery|new)[ _-]?)?address(?:es)?"
    r"|\blives?[ \t](?:at|on)|\bliving[ \t]at|\bresides?[ \t]at|\bresiding[ \t]at"
    r"|\blocated[ \t](?:at|on)|\bship(?:ped)?[ \t]to|\bdeliver(?:ed)?[ \t]to"
    r"|\blives?[ \t]in|\bliving[ \t]in|\badresse|\banschrift|\bdirecci[oó]n|\bindirizzo"
    r"|\bendereço)"
    # `address of Acme is`, `billing address to`, or a label on the line above its value
    r"(?i:[ \t]of(?:[ \t]\S+){1,4}?[ \t]+(?:is|was)[ \t]+"
    r"|[^\w]{1,8}(?:(?:is|was|it is|to|with|as)[ \t]+)?)"
)
_LOOSE_ADDRESS = (
    rf"(?:\d{{1,6}}[ \t]+)?\p{{Lu}}[\p{{L}}'.-]+(?:[ \t]+[\p{{L}}'.-]+){{0,3}}"
    rf"[ \t]+{_HOUSE_NUMBER}\b"
)
# A street without a street word, vouched for by the flat or suite that follows it:
# `Allika 46, Apt. 5`, `2505 Heatherleigh Suite 620`.
_BARE_STREET = (
    r"(?:(?:\d{1,6}[ \t]+)?\p{Lu}[\p{L}'.-]+(?:[ \t]+\p{L}[\p{L}'.-]*){0,2}[ \t]+"
    rf"{_HOUSE_NUMBER}|\d{{1,6}}[ \t]+\p{{Lu}}[\p{{L}}'.-]+(?:[ \t]+\p{{Lu}}[\p{{L}}'.-]+){{0,2}})"
)
_UNIT_VOUCHED_STREET = (
    rf"{_BARE_STREET}(?:,?[ \t]{{1,3}}|[ \t]*\n{_LINE_LEAD})"
    rf"(?:Apt|APT|Apartment|Suite|SUITE|Ste|Flat){_UNIT_ID}"
)
# ... or by the lines under it, the last of which holds a postcode:
# `Kaevu 94` / `Nicosia` / `61089`, `Hauptweg 5` / `10115 Berlin`.
_BLOCK_POSTCODE_LINE = (
    rf"(?:,[ \t]?)?(?:{_POSTCODE}[ \t]+\p{{Lu}}[\p{{L}}'.-]*(?:[ \t]\p{{L}}[\p{{L}}'.-]*){{0,2}}"
    r"|(?:\p{Lu}[\p{L}'.()-]*(?:[ \t]\p{L}[\p{L}'.()-]*){0,3}(?:,[ \t]?\p{Lu}{2,3})?[ \t]+)?"
    rf"{_POSTCODE})[ \t]*$"
)
_BLOCK_VOUCHED_STREET = (
    rf"{_BARE_STREET}(?:[ \t]*\n{_LINE_LEAD}{_BLOCK_LINE}[ \t]*$){{0,2}}"
    rf"[ \t]*\n{_LINE_LEAD}{_BLOCK_POSTCODE_LINE}"
)
_ADDRESS_WORDS = (
    "address", "lives ", "live ", "living ", "reside", "located", "ship", "deliver",
    "adresse", "anschrift", "direcci", "indirizzo", "endereço",
)  # fmt: skip
_UNIT_WORDS = ("apt", "apartment", "suite", "ste", "flat")


def _address_pattern(street: str, lead: str = _EDGE) -> str:
    return rf"(?m){lead}((?:{street}){_ADDRESS_END})"


def _tail() -> re2._Regexp:
    options = re2.Options()
    options.max_mem = 64 << 20
    return re2.compile(rf"(?m){_ADDRESS_END}", options)._regexp


# `_ADDRESS_END` on its own, run anchored where a street ends. Every part of it is optional, so
# it always matches (perhaps nothing).
_TAIL = _tail()
_AT_START = re2._Anchor.ANCHOR_START


@dataclass(frozen=True)
class AddressRecognizer(PatternRecognizer):
    """A street address: `pattern` is `(?m)LEAD((?:STREET)END)`, and it finds exactly what that
    one pattern finds, but RE2 runs `head` (`(?m)LEAD((?:STREET))`) unanchored and `_TAIL` (END)
    anchored at the street's end. Why: an unanchored DFA follows every place a match could have
    started at once, and with END's optional unit, town and block lines after each of them
    the six address patterns built ~31 MB of states on 1,500 sentences of prose, in every
    worker; split, ~10 MB. Why it is the same match: END can always match empty, so wherever
    STREET matches the whole pattern does, and RE2's leftmost-first choice of STREET's path
    is the whole pattern's (END is tried after it, greedily, as here)."""

    head: str = ""
    extends_matches: ClassVar[bool] = True

    @property
    def scan_pattern(self) -> str:
        return self.head

    def extend(self, encoded: bytes, spans: Spans) -> Spans:
        """The street's match, extended by the tail matched where the street ends."""
        (start, street_end), (value_start, _) = spans[0], spans[1]
        stop = _TAIL.Match(_AT_START, encoded, street_end, len(encoded))[0][1]
        return [(start, stop), (value_start, stop)]


def _address(name: str, street: str, lead: str = _EDGE, **settings: object) -> AddressRecognizer:
    return AddressRecognizer(
        name=name,
        entity_type="LOCATION",
        pattern=_address_pattern(street, lead),
        head=rf"(?m){lead}((?:{street}))",
        value_group=1,
        needs_digit=True,
        validator=is_address,
        **settings,  # type: ignore[arg-type]
    )


_DECIMAL = re2.compile(r"\d\.\d")


def is_address(value: str) -> bool:
    """Addresses hold letters and never a decimal (`Python 3.11`, `Kubernetes 1.28`)."""
    return any(c.isalpha() for c in value) and _DECIMAL.search(value) is None


IDENTITY_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    PatternRecognizer(
        # `ZIP: 3520`, `my zip code is 35350`, `postcode=SW1A 1AA`: only with a label, since a
        # bare 4-5 digit number in a log is a port, a count or a status far more often.
        name="postal_code_in_context",
        entity_type="POSTAL_CODE",
        pattern=(
            r"(?i:\b(?:zip(?:[ _-]?code)?|postal[ _-]?code|post[ _-]?code)s?\b"
            r"[ \t]*(?:is|:|#|=|no\.?)?[ \t]*)"
            r"(\d{3,5}(?:[ -]\d{2,4})?(?: ?[A-Z]{2}\b)?|[A-Z]\d[A-Z] ?\d[A-Z]\d"
            r"|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b"
        ),
        value_group=1,
        triggers=("zip", "postal", "postcode", "post code", "post_code", "post-code"),
        needs_digit=True,
        score=0.7,
    ),
    PatternRecognizer(
        # UK and Canadian postcodes in their printed form (`NW1 6XE`, `SW1A 1AA`, `K1A 0B6`):
        # letters and digits in fixed places around one space, which nothing in a log shares.
        # The compact form (`NW16XE`) needs the label above.
        name="postal_code_uk_ca",
        entity_type="POSTAL_CODE",
        pattern=(
            r"(?:^|[^\w-])((?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}"
            r"|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d))\b"
        ),
        value_group=1,
        needs_digit=True,
        score=0.7,
    ),
    PatternRecognizer(
        # Dashes only without a label: `123 45 6789` is as likely three log columns.
        name="us_ssn",
        entity_type="US_SSN",
        pattern=rf"{_LEFT_EDGE}(\d{{3}}-\d{{2}}-\d{{4}}(?:[.-]\d+)*)\b",
        value_group=1,
        needs_digit=True,
        validator=is_ssn,
        score=0.85,
    ),
    PatternRecognizer(
        name="us_ssn_in_context",
        entity_type="US_SSN",
        pattern=rf"{_SSN_CONTEXT}{_LABEL_GAP}\b(\d{{3}}[ .-]?\d{{2}}[ .-]?\d{{4}})\b",
        value_group=1,
        triggers=("ssn", "ss#", "social"),
        needs_digit=True,
        validator=is_ssn,
        score=0.9,
    ),
    PatternRecognizer(
        name="date_of_birth",
        entity_type="DATE_OF_BIRTH",
        pattern=rf"{_BIRTH_CONTEXT}{_LABEL_GAP}\b({_DATE})",
        value_group=1,
        triggers=_BIRTH_WORDS,
        needs_digit=True,
        validator=is_birth_date,
        ignore_case=True,
        score=0.85,
    ),
    PatternRecognizer(
        name="us_driver_license",
        entity_type="US_DRIVER_LICENSE",
        pattern=rf"{_LICENSE_CONTEXT}{_LABEL_GAP}\b([A-Za-z]{{0,5}}\d[\dA-Za-z-]{{3,18}}[\dA-Za-z])\b",
        value_group=1,
        triggers=("licen", "dl"),
        needs_digit=True,
        validator=is_driver_license,
        score=0.7,
    ),
    _address("street_address_us", _US_STREET, score=0.7),
    _address("street_address_suffix", _SUFFIX_STREET, score=0.7),
    _address("street_address_prefix", f"{_PREFIX_STREET}|{_NUMBER_FIRST_STREET}", score=0.7),
    _address("street_address_with_unit", _UNIT_VOUCHED_STREET, triggers=_UNIT_WORDS, score=0.6),
    _address("street_address_block", _BLOCK_VOUCHED_STREET, triggers=("\n",), score=0.6),
    _address(
        "po_box",
        f"{_PO_BOX}|{_MILITARY}",
        triggers=("box", "apo ", "fpo ", "dpo ", "postfach", "apartado", "caixa"),
        score=0.7,
    ),
    _address(
        "street_address_in_context",
        _LOOSE_ADDRESS,
        lead=_ADDRESS_CONTEXT,
        triggers=_ADDRESS_WORDS,
        score=0.6,
    ),
)
