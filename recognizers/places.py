"""Places: country names in English, a place in any case (`Iceland`, `belgium`, `UNITED
KINGDOM`); and the one-word names of the world's cities of 15,000 people or more."""

from __future__ import annotations

from functools import cache
from importlib import resources

COUNTRIES = frozenset(
    """
    afghanistan albania algeria andorra angola argentina armenia australia austria azerbaijan
    bahamas bahrain bangladesh barbados belarus belgium belize benin bhutan bolivia bosnia
    botswana brazil brunei bulgaria burkina burundi cambodia cameroon canada chad chile china
    colombia comoros congo croatia cuba cyprus czechia czech denmark djibouti dominica ecuador
    egypt eritrea estonia eswatini ethiopia fiji finland france gabon gambia georgia germany
    ghana greece greenland grenada guatemala guinea guyana haiti honduras hungary iceland india
    indonesia iran iraq ireland israel italy jamaica japan jordan kazakhstan kenya kiribati
    kosovo kuwait kyrgyzstan laos latvia lebanon lesotho liberia libya liechtenstein lithuania
    luxembourg madagascar malawi malaysia maldives mali malta mauritania mauritius mexico
    micronesia moldova monaco mongolia montenegro morocco mozambique myanmar namibia nauru nepal
    netherlands nicaragua niger nigeria norway oman pakistan palau palestine panama paraguay
    peru philippines poland portugal qatar romania russia rwanda samoa senegal serbia
    seychelles singapore slovakia slovenia somalia spain sudan suriname sweden switzerland
    syria taiwan tajikistan tanzania thailand togo tonga trinidad tunisia turkey turkmenistan
    tuvalu uganda ukraine uruguay uzbekistan vanuatu venezuela vietnam yemen zambia zimbabwe
    england scotland wales usa uk uae
    """.split()
)
MULTI_WORD_COUNTRIES = (
    "united kingdom", "united states", "united arab emirates", "new zealand", "south africa",
    "south korea", "north korea", "saudi arabia", "sri lanka", "costa rica", "el salvador",
    "puerto rico", "hong kong", "ivory coast", "czech republic", "dominican republic",
    "sierra leone", "papua new guinea", "east timor", "cape verde", "north macedonia",
)  # fmt: skip


@cache
def city_names() -> frozenset[str]:
    """Lower-cased one-word names (`chicago`, `wrocław`, `wroclaw`) of the cities of 15,000
    people or more in GeoNames, as the `geotext` package ships them (its data file is read,
    its code is not used): the name and its ASCII form, not the alternate names (thousands of
    transliterations, many of them ordinary words). Words of four letters or more only."""
    text = resources.files("geotext").joinpath("data/cities15000.txt").read_text("utf-8")
    names: set[str] = set()
    for line in text.splitlines():
        columns = line.split("\t", 3)
        if len(columns) < 3:
            continue
        for name in columns[1:3]:
            if " " not in name and "-" not in name and len(name) >= 4 and name.isalpha():
                names.add(name.lower())
    return frozenset(names)
