"""The gazetteers the case-file extractor reads: vehicle makes and models, colours, premises, entry methods, weapons,
property, landmark words, and the words that look like names but are not. Plain data, versioned with the code: the
assistant's card pins their SHA-256 (`lexicon_sha256`), so a changed list is a new registry version."""

from __future__ import annotations

import hashlib
import json

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12}
COUNT_WORDS = {**NUMBER_WORDS, "a couple of": 2, "a pair of": 2, "both": 2, "several": 3}

MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"])}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
WEEKDAYS = {d: i for i, d in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}

MAKES = {
    "toyota": "Toyota", "honda": "Honda", "ford": "Ford", "chevrolet": "Chevrolet", "chevy": "Chevrolet",
    "nissan": "Nissan", "hyundai": "Hyundai", "kia": "Kia", "mazda": "Mazda", "volkswagen": "Volkswagen",
    "vw": "Volkswagen", "bmw": "BMW", "mercedes": "Mercedes-Benz", "mercedes-benz": "Mercedes-Benz", "audi": "Audi",
    "lexus": "Lexus", "subaru": "Subaru", "jeep": "Jeep", "dodge": "Dodge", "gmc": "GMC", "tesla": "Tesla",
    "volvo": "Volvo", "acura": "Acura", "infiniti": "Infiniti", "buick": "Buick", "cadillac": "Cadillac",
    "chrysler": "Chrysler", "mitsubishi": "Mitsubishi", "lincoln": "Lincoln", "porsche": "Porsche", "mini": "Mini",
    "fiat": "Fiat", "land rover": "Land Rover", "range rover": "Land Rover", "ram": "Ram", "pontiac": "Pontiac",
    "suzuki": "Suzuki", "yamaha": "Yamaha", "harley": "Harley-Davidson", "harley-davidson": "Harley-Davidson",
    "byd": "BYD", "geely": "Geely",
}
MODELS = {
    "corolla": "Toyota", "camry": "Toyota", "rav4": "Toyota", "prius": "Toyota", "tacoma": "Toyota",
    "sienna": "Toyota", "highlander": "Toyota", "civic": "Honda", "accord": "Honda", "cr-v": "Honda",
    "odyssey": "Honda", "pilot": "Honda", "f-150": "Ford", "f150": "Ford", "focus": "Ford", "escape": "Ford",
    "explorer": "Ford", "fusion": "Ford", "mustang": "Ford", "transit": "Ford", "silverado": "Chevrolet",
    "malibu": "Chevrolet", "equinox": "Chevrolet", "cruze": "Chevrolet", "impala": "Chevrolet", "altima": "Nissan",
    "sentra": "Nissan", "rogue": "Nissan", "elantra": "Hyundai", "sonata": "Hyundai", "tucson": "Hyundai",
    "santa fe": "Hyundai", "forte": "Kia", "soul": "Kia", "sportage": "Kia", "sorento": "Kia", "mazda3": "Mazda",
    "cx-5": "Mazda", "golf": "Volkswagen", "jetta": "Volkswagen", "passat": "Volkswagen", "tiguan": "Volkswagen",
    "wrangler": "Jeep", "cherokee": "Jeep", "grand cherokee": "Jeep", "caravan": "Dodge", "grand caravan": "Dodge",
    "charger": "Dodge", "outback": "Subaru", "impreza": "Subaru", "forester": "Subaru", "model 3": "Tesla",
    "model y": "Tesla", "x5": "BMW", "sierra": "GMC",
}
COLOURS = {
    "black": "black", "white": "white", "silver": "silver", "grey": "grey", "gray": "grey", "red": "red",
    "blue": "blue", "dark blue": "dark blue", "navy": "dark blue", "navy blue": "dark blue", "light blue": "light blue",
    "green": "green", "dark green": "dark green", "yellow": "yellow", "orange": "orange", "brown": "brown",
    "beige": "beige", "tan": "beige", "gold": "gold", "maroon": "maroon", "burgundy": "maroon", "purple": "purple",
    "dark grey": "dark grey", "dark gray": "dark grey", "charcoal": "dark grey",
}
# colours that are the same family: a witness saying "dark blue" and one saying "blue" do not contradict
COLOUR_FAMILY = {"dark blue": "blue", "light blue": "blue", "dark green": "green", "dark grey": "grey",
                 "silver": "grey", "maroon": "red", "beige": "brown", "gold": "yellow"}
VEHICLE_TYPES = {
    "car": "car", "sedan": "car", "hatchback": "car", "coupe": "car", "suv": "SUV", "crossover": "SUV",
    "van": "van", "minivan": "van", "cargo van": "van", "truck": "truck", "pickup": "pickup", "pickup truck": "pickup",
    "pick-up": "pickup", "motorcycle": "motorcycle", "motorbike": "motorcycle", "scooter": "scooter",
    "moped": "scooter", "taxi": "taxi", "cab": "taxi",
}
WEAPONS = {
    "knife": "knife", "kitchen knife": "knife", "blade": "knife", "box cutter": "knife", "gun": "gun",
    "handgun": "gun", "pistol": "gun", "firearm": "gun", "revolver": "gun", "rifle": "rifle", "shotgun": "shotgun",
    "baseball bat": "bat", "bat": "bat", "crowbar": "crowbar", "pry bar": "crowbar", "tire iron": "crowbar",
    "hammer": "hammer", "machete": "machete", "screwdriver": "screwdriver", "bottle": "bottle",
    "pepper spray": "pepper spray", "bear spray": "pepper spray", "taser": "taser", "axe": "axe", "metal pipe": "pipe",
    "pipe": "pipe",
}
PROPERTY = {
    "phone": "phone", "cellphone": "phone", "cell phone": "phone", "mobile phone": "phone", "iphone": "phone",
    "smartphone": "phone", "laptop": "laptop", "macbook": "laptop", "wallet": "wallet", "purse": "purse",
    "handbag": "purse", "backpack": "backpack", "jewellery": "jewellery", "jewelry": "jewellery",
    "necklace": "jewellery", "ring": "jewellery", "rings": "jewellery", "earrings": "jewellery", "watch": "watch",
    "bicycle": "bicycle", "bike": "bicycle", "e-bike": "bicycle", "cash": "cash", "money": "cash",
    "television": "television", "tv": "television", "tablet": "tablet", "ipad": "tablet", "keys": "keys",
    "car keys": "keys", "passport": "passport", "bank card": "bank card", "credit card": "bank card",
    "debit card": "bank card", "camera": "camera", "tools": "tools", "power tools": "tools", "drill": "tools",
    "catalytic converter": "catalytic converter", "games console": "games console", "playstation": "games console",
    "xbox": "games console", "headphones": "headphones", "sunglasses": "sunglasses", "parcel": "parcel",
    "package": "parcel", "liquor": "liquor", "cigarettes": "cigarettes",
}
PREMISES = {
    "house": "house", "home": "house", "townhouse": "house", "apartment": "apartment", "flat": "apartment",
    "condo": "apartment", "unit": "apartment", "garage": "garage", "shed": "garage", "store": "store",
    "shop": "store", "convenience store": "store", "variety store": "store", "jewellery store": "store",
    "jewelry store": "store", "pharmacy": "store", "supermarket": "store", "bar": "bar", "pub": "bar",
    "restaurant": "restaurant", "cafe": "restaurant", "office": "office", "parking lot": "parking lot",
    "parking garage": "parking lot", "car park": "parking lot", "gas station": "gas station",
    "construction site": "construction site", "warehouse": "warehouse", "school": "school", "church": "church",
    "bank": "bank", "park": "park", "bus stop": "transit", "subway station": "transit", "station": "transit",
    "laneway": "street", "alley": "street", "sidewalk": "street", "driveway": "driveway",
}
ENTRY = {  # pattern (regular expression over lower-case text) -> entry method
    r"\b(?:forced|forcing|force)\b[^.]{0,25}\b(?:door|lock|open)\b": "forced door",
    r"\bdoor\b[^.]{0,12}\b(?:forced|forced open)\b": "forced door",
    r"\b(?:pried|prying|pry|jimmied|jemmied)\b": "pried open",
    r"\b(?:smashed|broke|broken|shattered|smashing|breaking)\b[^.]{0,20}\b(?:window|glass|windshield)\b":
        "broken window",
    r"\bwindow\b[^.]{0,20}\b(?:smashed|broken|shattered)\b": "broken window",
    r"\bkicked\b[^.]{0,15}\b(?:in|open|down)\b|\bkicked the door\b": "kicked door",
    r"\bclimbed\b[^.]{0,20}\b(?:through|over|in)\b": "climbed in",
    r"\b(?:unlocked|was open|were open|not locked)\b|\bleft\b[^.]{0,25}\bopen\b": "unlocked",
    r"\b(?:picked the lock|lock was picked|lock-picking|lock picking)\b": "lock picked",
    r"\bcut\b[^.]{0,20}\b(?:lock|padlock|chain|fence)\b|\bbolt cutters?\b": "cut lock",
    r"\b(?:relay attack|signal booster|key fob)\b": "keyless relay",
    r"\b(?:threatened|pointed|brandished|pulled out|waved|held up|wielding)\b[^.]{0,30}(?:knife|gun|pistol|weapon|"
    r"bat|crowbar|hammer|machete|blade|rifle|axe|bottle)": "armed threat",
    r"\b(?:showed|flashed|produced|pulled|drew)\b[^.]{0,40}(?:knife|gun|pistol|firearm|weapon|blade|machete)":
        "armed threat",
    r"\b(?:grabbed|snatched|ripped|took)\b[^.]{0,30}\b(?:from|out of|off)\b": "snatch",
    r"\b(?:punched|hit|struck|pushed|shoved|shove|shoving|assaulted|kicked (?:him|her|me))\b|推倒|殴打|打了|踢": "physical force",
    r"撬开|撬锁": "pried open",
    r"砸碎|砸破|打碎": "broken window",
    r"抢走|抢夺|抢了": "snatch",
}
# Words after a street name that make it a street; before them, a capitalised word is a place, never a person.
STREET_SUFFIX = {"street": "street", "st": "street", "avenue": "avenue", "ave": "avenue", "road": "road",
                 "rd": "road", "drive": "drive", "dr": "drive", "lane": "lane", "ln": "lane", "boulevard": "boulevard",
                 "blvd": "boulevard", "crescent": "crescent", "cres": "crescent", "court": "court", "ct": "court",
                 "way": "way", "place": "place", "pl": "place", "parkway": "parkway", "terrace": "terrace",
                 "trail": "trail", "circle": "circle", "highway": "highway", "hwy": "highway", "row": "row",
                 "gate": "gate", "gardens": "gardens", "line": "line", "sideroad": "sideroad", "quay": "quay"}
LANDMARK_SUFFIX = ("Station", "Mall", "Park", "Plaza", "Centre", "Center", "School", "Hospital", "Library", "Square",
                   "Church", "Hotel", "Market", "Arena", "Stadium", "Bank", "Pharmacy", "Tower", "Terminal",
                   "College", "University", "Cinema", "Theatre", "Theater", "Gardens", "Bridge", "Pier", "Pub", "Bar",
                   "Restaurant", "Cafe", "Diner", "Motel", "Inn", "Mart", "Supermarket", "Building", "Complex")
TITLES = ("Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Officer", "Constable", "PC", "DC", "Sgt", "Sergeant",
          "Detective", "Det", "Inspector", "Insp", "Staff Sergeant", "Cst", "Auntie", "Uncle")
# Capitalised words that never begin or make a person's name (sentence starts, days, places, brands...).
NOT_NAMES = frozenset("""
i i'm i've i'd i'll me my we our you your he she they them his her their it its this that these those there here the
a an and or but so then when while after before at on in of to from by for with without about around near across
behind outside inside into onto over under between yesterday today tonight tomorrow last next morning evening night
afternoon monday tuesday wednesday thursday friday saturday sunday january february march april may june july august
september october november december jan feb mar apr jun jul aug sep sept oct nov dec police officer constable
sergeant detective statement witness victim suspect suspects accused complainant caller unit car cars van truck suv
street avenue road drive lane boulevard north south east west northbound southbound eastbound westbound mall park
station plaza centre center square hospital school library bank store shop bar restaurant pharmacy hotel church
tim hortons mcdonald's mcdonalds starbucks walmart costco loblaws shoppers drug mart canadian tire home depot lcbo
ttc go transit uber lyft amazon google apple iphone ipad samsung android facebook instagram whatsapp gps 911 ok okay
yes no not nobody someone somebody everyone everybody anyone he'd she'd they'd we'd it's that's there's what where
who why how which both all some one two three four five six seven eight nine ten eleven twelve first second third
also just only still even very really about around approximately roughly maybe perhaps please thank thanks sir madam
ma'am mr mrs ms miss dr as if because though although once since until unless whether whoever whatever wherever
english french canadian toronto ontario canada chinese china beijing shanghai guangzhou shenzhen city downtown
midtown uptown chinatown hwy highway exit queen king bloor yonge dundas college spadina bathurst finch
christmas easter thanksgiving halloween covid he's she's we're they're you're i'd i'd've later earlier soon
afterwards suddenly immediately eventually luckily unfortunately apparently everything nothing something anything
mum mom dad mother father brother sister son daughter wife husband friend neighbour neighbor boss manager
""".split())
# Chinese: colours, vehicles, weapons and property as statements write them (matched as substrings: no segmenter)
CN_COLOURS = {"黑色": "black", "白色": "white", "红色": "red", "银色": "silver", "灰色": "grey", "蓝色": "blue",
              "深蓝色": "dark blue", "绿色": "green", "黄色": "yellow", "金色": "gold", "棕色": "brown"}
CN_VEHICLES = {"轿车": "car", "小汽车": "car", "汽车": "car", "车": "car", "面包车": "van", "越野车": "SUV", "货车": "truck",
               "卡车": "truck", "皮卡": "pickup", "摩托车": "motorcycle", "电动车": "scooter", "出租车": "taxi"}
CN_WEAPONS = {"菜刀": "knife", "水果刀": "knife", "匕首": "knife", "刀": "knife", "手枪": "gun", "枪": "gun",
              "棒球棒": "bat", "铁棍": "pipe", "撬棍": "crowbar", "锤子": "hammer", "酒瓶": "bottle", "砖头": "brick"}
CN_PROPERTY = {"手机": "phone", "笔记本电脑": "laptop", "电脑": "laptop", "钱包": "wallet", "现金": "cash",
               "首饰": "jewellery", "项链": "jewellery", "手表": "watch", "自行车": "bicycle", "护照": "passport",
               "银行卡": "bank card", "背包": "backpack", "挎包": "purse", "包": "purse"}
CN_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
               "钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
CN_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"


def lexicon_sha256() -> str:
    """The SHA-256 of every list above: what the assistant's card pins (with its settings)."""
    data = {k: v for k, v in globals().items() if k.isupper() and not k.startswith("_")}
    text = json.dumps(data, sort_keys=True, default=sorted, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def config_sha256(table: dict) -> str:
    """The SHA-256 an assistant card's [rules] sha256 must hold: of its [model] settings, canonical JSON."""
    return hashlib.sha256(json.dumps(table, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
