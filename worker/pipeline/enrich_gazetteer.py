"""Country names, demonyms and major cities -> ISO 3166-1 alpha-2 codes.

Our own compact table (facts, no third-party data): English names and common
short forms, demonyms ("Iraqi"), and capitals plus the cities news datelines
use most. It resolves location entities and nationality adjectives, never
free text, so "Jordan" the basketball player is not Jordan the country.
"""

from __future__ import annotations

import re
from functools import cache

# code | names | demonyms | cities, each ';'-separated; a code may take several lines
_TABLE = """
AF|Afghanistan|Afghan;Afghani|Kabul;Kandahar;Herat
AL|Albania|Albanian|Tirana
DZ|Algeria|Algerian|Algiers
AD|Andorra|Andorran|
AO|Angola|Angolan|Luanda
AG|Antigua and Barbuda;Antigua|Antiguan|
AR|Argentina;Argentine Republic|Argentine;Argentinian;Argentinean|Buenos Aires;Cordoba;Rosario
AM|Armenia|Armenian|Yerevan
AU|Australia|Australian;Aussie|Canberra;Sydney;Melbourne;Brisbane;Perth;Adelaide
AT|Austria|Austrian|Vienna;Salzburg;Graz
AZ|Azerbaijan|Azerbaijani;Azeri|Baku
BS|Bahamas;The Bahamas|Bahamian|Nassau
BH|Bahrain|Bahraini|Manama
BD|Bangladesh|Bangladeshi|Dhaka
BB|Barbados|Barbadian|
BY|Belarus|Belarusian|Minsk
BE|Belgium|Belgian|Brussels;Antwerp
BZ|Belize|Belizean|
BJ|Benin|Beninese|
BT|Bhutan|Bhutanese|
BO|Bolivia|Bolivian|La Paz;Sucre
BA|Bosnia and Herzegovina;Bosnia|Bosnian|Sarajevo
BW|Botswana|Motswana;Batswana|Gaborone
BR|Brazil|Brazilian|Brasilia;Sao Paulo;São Paulo;Rio de Janeiro;Rio
BN|Brunei|Bruneian|
BG|Bulgaria|Bulgarian|Sofia
BF|Burkina Faso|Burkinabe|Ouagadougou
BI|Burundi|Burundian|
KH|Cambodia|Cambodian|Phnom Penh
CM|Cameroon|Cameroonian|Yaounde
CA|Canada||
CA||Canadian|
CA|||Ottawa;Toronto;Montreal;Vancouver;Calgary;Ontario;Quebec;British Columbia;Alberta
CV|Cape Verde;Cabo Verde|Cape Verdean|
CF|Central African Republic|Central African|Bangui
TD|Chad|Chadian|N'Djamena
CL|Chile|Chilean|Santiago
CN|China;People's Republic of China;PRC;Mainland China||
CN||Chinese|
CN|||Beijing;Shanghai;Wuhan;Shenzhen;Guangzhou;Xinjiang;Tibet
CO|Colombia|Colombian|Bogota;Bogotá;Medellin
KM|Comoros|Comoran|
CG|Republic of the Congo;Congo-Brazzaville|Congolese|Brazzaville
CD|Democratic Republic of the Congo;DR Congo;DRC;Congo|Congolese|Kinshasa
CR|Costa Rica|Costa Rican|San Jose
CI|Ivory Coast;Cote d'Ivoire;Côte d'Ivoire|Ivorian|Abidjan
HR|Croatia|Croatian;Croat|Zagreb
CU|Cuba|Cuban|Havana
CY|Cyprus|Cypriot|Nicosia
CZ|Czech Republic;Czechia|Czech|Prague
DK|Denmark|Danish;Dane|Copenhagen
DJ|Djibouti|Djiboutian|
DM|Dominica|Dominican|
DO|Dominican Republic|Dominican|Santo Domingo
EC|Ecuador|Ecuadorian|Quito;Guayaquil
EG|Egypt|Egyptian|Cairo;Alexandria
SV|El Salvador|Salvadoran|San Salvador
GQ|Equatorial Guinea|Equatorial Guinean|
ER|Eritrea|Eritrean|Asmara
EE|Estonia|Estonian|Tallinn
SZ|Eswatini;Swaziland|Swazi|
ET|Ethiopia|Ethiopian|Addis Ababa
FJ|Fiji|Fijian|Suva
FI|Finland|Finnish;Finn|Helsinki
FR|France;French Republic||
FR||French;Frenchman;Frenchwoman|
FR|||Paris;Marseille;Lyon;Nice;Toulouse;Bordeaux
GA|Gabon|Gabonese|Libreville
GM|Gambia;The Gambia|Gambian|Banjul
GE|Georgia (country)|Georgian|Tbilisi
DE|Germany;Federal Republic of Germany|German|Berlin;Munich;Hamburg;Frankfurt;Cologne;Bonn
GH|Ghana|Ghanaian|Accra
GR|Greece|Greek|Athens;Thessaloniki
GD|Grenada|Grenadian|
GT|Guatemala|Guatemalan|Guatemala City
GN|Guinea|Guinean|Conakry
GW|Guinea-Bissau|Bissau-Guinean|
GY|Guyana|Guyanese|Georgetown
HT|Haiti|Haitian|Port-au-Prince
HN|Honduras|Honduran|Tegucigalpa
HU|Hungary|Hungarian|Budapest
IS|Iceland|Icelandic;Icelander|Reykjavik
IN|India;Republic of India||
IN||Indian|
IN|||New Delhi;Delhi;Mumbai;Bombay;Kolkata;Calcutta;Chennai;Bangalore;Bengaluru;Hyderabad
IN|||Kashmir
ID|Indonesia|Indonesian|Jakarta;Bali;Surabaya
IR|Iran;Islamic Republic of Iran|Iranian;Persian|Tehran;Isfahan
IQ|Iraq|Iraqi|Baghdad;Basra;Mosul;Erbil;Kirkuk;Fallujah
IE|Ireland;Republic of Ireland;Eire|Irish|Dublin;Cork
IL|Israel|Israeli|Jerusalem;Tel Aviv;Haifa
IT|Italy|Italian|Rome;Milan;Naples;Turin;Florence;Venice
JM|Jamaica|Jamaican|Kingston
JP|Japan|Japanese|Tokyo;Osaka;Kyoto;Hiroshima;Fukushima;Yokohama
JO|Jordan|Jordanian|Amman
KZ|Kazakhstan|Kazakh;Kazakhstani|Astana;Almaty
KE|Kenya|Kenyan|Nairobi;Mombasa
KI|Kiribati|I-Kiribati|
KP|North Korea;Democratic People's Republic of Korea;DPRK|North Korean|Pyongyang
KR|South Korea;Republic of Korea;Korea|South Korean;Korean|Seoul;Busan;Incheon
XK|Kosovo|Kosovar;Kosovan|Pristina
KW|Kuwait|Kuwaiti|Kuwait City
KG|Kyrgyzstan|Kyrgyz|Bishkek
LA|Laos|Lao;Laotian|Vientiane
LV|Latvia|Latvian|Riga
LB|Lebanon|Lebanese|Beirut
LS|Lesotho|Basotho|Maseru
LR|Liberia|Liberian|Monrovia
LY|Libya|Libyan|Tripoli;Benghazi
LI|Liechtenstein|Liechtensteiner|
LT|Lithuania|Lithuanian|Vilnius
LU|Luxembourg|Luxembourgish;Luxembourger|
MG|Madagascar|Malagasy|Antananarivo
MW|Malawi|Malawian|Lilongwe
MY|Malaysia|Malaysian|Kuala Lumpur
MV|Maldives|Maldivian|Male
ML|Mali|Malian|Bamako
MT|Malta|Maltese|Valletta
MH|Marshall Islands|Marshallese|
MR|Mauritania|Mauritanian|Nouakchott
MU|Mauritius|Mauritian|Port Louis
MX|Mexico;United Mexican States|Mexican|Mexico City;Guadalajara;Monterrey;Tijuana;Cancun
FM|Micronesia|Micronesian|
MD|Moldova|Moldovan|Chisinau
MC|Monaco|Monegasque;Monacan|Monte Carlo
MN|Mongolia|Mongolian|Ulaanbaatar
ME|Montenegro|Montenegrin|Podgorica
MA|Morocco|Moroccan|Rabat;Casablanca;Marrakesh
MZ|Mozambique|Mozambican|Maputo
MM|Myanmar;Burma|Burmese|Yangon;Rangoon;Naypyidaw
NA|Namibia|Namibian|Windhoek
NR|Nauru|Nauruan|
NP|Nepal|Nepali;Nepalese|Kathmandu
NL|Netherlands;The Netherlands;Holland|Dutch|Amsterdam;Rotterdam;The Hague
NZ|New Zealand|New Zealander;Kiwi|Wellington;Auckland;Christchurch
NI|Nicaragua|Nicaraguan|Managua
NE|Niger|Nigerien|Niamey
NG|Nigeria|Nigerian|Abuja;Lagos;Kano
MK|North Macedonia;Macedonia|Macedonian|Skopje
NO|Norway|Norwegian|Oslo
OM|Oman|Omani|Muscat
PK|Pakistan|Pakistani|Islamabad;Karachi;Lahore;Peshawar
PW|Palau|Palauan|
PS|Palestine;Palestinian Territories;State of Palestine;West Bank;Gaza;Gaza Strip||
PS||Palestinian|
PS|||Ramallah
PA|Panama|Panamanian|Panama City
PG|Papua New Guinea|Papua New Guinean|Port Moresby
PY|Paraguay|Paraguayan|Asuncion
PE|Peru|Peruvian|Lima
PH|Philippines;The Philippines|Filipino;Philippine|Manila;Quezon City;Cebu
PL|Poland|Polish;Pole|Warsaw;Krakow
PT|Portugal|Portuguese|Lisbon;Porto
QA|Qatar|Qatari|Doha
RO|Romania|Romanian|Bucharest
RU|Russia;Russian Federation|Russian|Moscow;St. Petersburg;Saint Petersburg;Siberia;Chechnya
RW|Rwanda|Rwandan|Kigali
KN|Saint Kitts and Nevis|Kittitian|
LC|Saint Lucia|Saint Lucian|
VC|Saint Vincent and the Grenadines|Vincentian|
WS|Samoa|Samoan|Apia
SM|San Marino|Sammarinese|
ST|Sao Tome and Principe|Santomean|
SA|Saudi Arabia;Kingdom of Saudi Arabia;Saudi|Saudi;Saudi Arabian|Riyadh;Jeddah;Mecca;Medina
SN|Senegal|Senegalese|Dakar
RS|Serbia|Serbian;Serb|Belgrade
SC|Seychelles|Seychellois|
SL|Sierra Leone|Sierra Leonean|Freetown
SG|Singapore|Singaporean|
SK|Slovakia|Slovak;Slovakian|Bratislava
SI|Slovenia|Slovenian;Slovene|Ljubljana
SB|Solomon Islands|Solomon Islander|
SO|Somalia|Somali|Mogadishu
ZA|South Africa|South African|Pretoria;Johannesburg;Cape Town;Durban
SS|South Sudan|South Sudanese|Juba
ES|Spain|Spanish;Spaniard|Madrid;Barcelona;Valencia;Seville;Catalonia
LK|Sri Lanka|Sri Lankan|Colombo
SD|Sudan|Sudanese|Khartoum;Darfur
SR|Suriname|Surinamese|Paramaribo
SE|Sweden|Swedish;Swede|Stockholm;Gothenburg
CH|Switzerland|Swiss|Bern;Zurich;Geneva;Basel;Davos
SY|Syria|Syrian|Damascus;Aleppo;Idlib;Homs;Raqqa
TW|Taiwan|Taiwanese|Taipei
TJ|Tajikistan|Tajik|Dushanbe
TZ|Tanzania|Tanzanian|Dodoma;Dar es Salaam;Zanzibar
TH|Thailand|Thai|Bangkok;Phuket
TL|East Timor;Timor-Leste|Timorese|Dili
TG|Togo|Togolese|Lome
TO|Tonga|Tongan|
TT|Trinidad and Tobago;Trinidad|Trinidadian|Port of Spain
TN|Tunisia|Tunisian|Tunis
TR|Turkey;Türkiye|Turkish;Turk|Ankara;Istanbul;Izmir
TM|Turkmenistan|Turkmen|Ashgabat
TV|Tuvalu|Tuvaluan|
UG|Uganda|Ugandan|Kampala
UA|Ukraine|Ukrainian|Kyiv;Kiev;Kharkiv;Odesa;Odessa;Lviv;Donetsk;Crimea
AE|United Arab Emirates;UAE;Emirates|Emirati|Abu Dhabi;Dubai;Sharjah
GB|United Kingdom;UK;U.K.;Britain;Great Britain;England;Scotland;Wales;Northern Ireland||
GB||British;English;Scottish;Scot;Welsh;Briton|
GB|||London;Manchester;Birmingham;Liverpool;Edinburgh;Glasgow;Cardiff;Belfast;Leeds;Oxford
GB|||Cambridge
US|United States;United States of America;US;U.S.;USA;U.S.A.;America||
US||American|
US|||Washington;Washington, D.C.;D.C.;New York;New York City;Los Angeles;Chicago;Houston
US|||San Francisco;Boston;Miami;Seattle;Atlanta;Philadelphia;Dallas;Detroit;Phoenix;Denver
US|||Las Vegas;Fort Worth;San Antonio;San Diego;Silicon Valley;Brooklyn;Manhattan;Alabama;Alaska
US|||Arizona;Arkansas;California;Colorado;Connecticut;Delaware;Florida;Hawaii;Idaho;Illinois
US|||Indiana;Iowa;Kansas;Kentucky;Louisiana;Maine;Maryland;Massachusetts;Michigan;Minnesota
US|||Mississippi;Missouri;Montana;Nebraska;Nevada;New Hampshire;New Jersey;New Mexico
US|||North Carolina;North Dakota;Ohio;Oklahoma;Oregon;Pennsylvania;Rhode Island;South Carolina
US|||South Dakota;Tennessee;Texas;Utah;Vermont;Virginia;West Virginia;Wisconsin;Wyoming
UY|Uruguay|Uruguayan|Montevideo
UZ|Uzbekistan|Uzbek|Tashkent
VU|Vanuatu|Ni-Vanuatu|
VA|Vatican City;Vatican;Holy See||
VE|Venezuela|Venezuelan|Caracas;Maracaibo
VN|Vietnam;Viet Nam|Vietnamese|Hanoi;Ho Chi Minh City;Saigon
YE|Yemen|Yemeni|Sanaa;Aden;Hodeidah
ZM|Zambia|Zambian|Lusaka
ZW|Zimbabwe|Zimbabwean|Harare
HK|Hong Kong|Hong Konger|Kowloon
MO|Macau;Macao|Macanese|
PR|Puerto Rico|Puerto Rican|San Juan
GL|Greenland|Greenlandic|Nuuk
"""


@cache
def _index() -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    names: dict[str, str] = {}
    demonyms: dict[str, str] = {}
    cities: dict[str, str] = {}
    for line in _TABLE.strip().splitlines():
        code, name_part, demonym_part, city_part = line.split("|")
        for target, part in ((names, name_part), (demonyms, demonym_part), (cities, city_part)):
            for item in filter(None, part.split(";")):
                target.setdefault(_key(item), code)
    return names, demonyms, cities


def _key(name: str) -> str:
    key = " ".join(name.replace("\u2019", "'").split()).casefold()
    return key[4:] if key.startswith("the ") else key


@cache
def place_first_words() -> frozenset[str]:
    """The casefolded first word of every country and city name, so a scan can
    skip the words no place name starts with without building n-grams."""
    names, _, cities = _index()
    return frozenset(m.group() for key in (*names, *cities) if (m := _FIRST_WORD.search(key)))


_FIRST_WORD = re.compile(r"\w+")


def country_of_name(name: str) -> str | None:
    """ISO code of a country by one of its names ("Iraq", "the U.S.")."""
    return _index()[0].get(_key(name))


def country_of_place(name: str) -> str | None:
    """ISO code for a country name, or for a listed city or region in it."""
    names, _, cities = _index()
    key = _key(name)
    return names.get(key) or cities.get(key)


def country_of_demonym(word: str) -> str | None:
    """ISO code for a nationality adjective or noun ("Iraqi", "Iraqis")."""
    demonyms = _index()[1]
    key = _key(word)
    code = demonyms.get(key)
    if code is None and key.endswith("s"):
        code = demonyms.get(key[:-1])
    return code


def is_country_name(name: str) -> bool:
    return country_of_name(name) is not None
