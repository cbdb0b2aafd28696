"""Country names, in English: a place in any case (`Iceland`, `belgium`, `UNITED KINGDOM`)."""

from __future__ import annotations

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
