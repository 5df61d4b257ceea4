"""A seeded product catalogue and the queries shoppers type, with graded relevance known exactly.

Each category has a canonical name most listings use and synonyms a few use; shoppers often type a
synonym, sometimes a typo, sometimes a word no listing needs ("cheap", "gift"). What makes it hard, as
in a real shop:
- accessories ("sleeve for laptop") carry the product's words and are not what a shopper typing
  "laptop" wants, and the other way round;
- a listing states its colour or feature in the title, only in its description (next to the colours
  it merely "goes with"), or not at all (it is in the photo);
- brand names are short made-up words, often a typo away from one another.
Lexical search misses synonyms and typos, dense search blurs exact brands, model codes and a product
with its accessories, so the two win on different queries and fusing them beats both. Without
accessories the default design scored about 0.9 nDCG@10; with the old world's fully stated attributes
too, 0.96.

A bigger catalogue is a bigger shop, not more copies of the same one: it stocks more brands and more
colours (in proportion, shades once plain names run out) and more features (with the square root), so
a query's exact matches stay about as few while the products that match part of it multiply. With a
fixed attribute space, 10x the products gave every query 10x the exact matches: nDCG@10 rose from 0.96
to 0.99 and MRR to 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from itertools import zip_longest

import numpy as np

# Category → (canonical name, synonyms, words its listings use around the name).
CATEGORIES = {
    "running_shoes": ("running shoes", ("sneakers", "trainers"), "sole cushioning laces grip stride"),
    "laptop": ("laptop", ("notebook", "ultrabook"), "keyboard screen battery processor memory"),
    "headphones": ("headphones", ("earphones", "headset"), "sound bass noise cancelling drivers"),
    "television": ("television", ("tv", "telly"), "screen hdr resolution streaming remote"),
    "sofa": ("sofa", ("couch", "settee"), "cushions seats upholstery living room"),
    "jacket": ("jacket", ("coat", "parka"), "hood zip insulation sleeves pockets"),
    "smartphone": ("smartphone", ("mobile", "cellphone"), "camera battery screen apps storage"),
    "backpack": ("backpack", ("rucksack", "daypack"), "straps compartments hiking capacity zip"),
    "watch": ("watch", ("wristwatch", "timepiece"), "strap dial face analog hours"),
    "camera": ("camera", ("dslr", "mirrorless"), "lens sensor zoom photos shutter"),
    "vacuum": ("vacuum cleaner", ("hoover", "vac"), "suction dust carpet cordless bagless"),
    "coffee_maker": ("coffee maker", ("espresso machine", "brewer"), "beans brew cup grinder milk"),
    "desk": ("desk", ("workstation", "bureau"), "drawers surface office height wood"),
    "lamp": ("lamp", ("light", "lantern"), "bulb shade brightness bedside led"),
    "bicycle": ("bicycle", ("bike", "cycle"), "gears frame wheels saddle brakes"),
    "tshirt": ("t shirt", ("tee", "top"), "cotton sleeves neck fit casual"),
    "sunglasses": ("sunglasses", ("shades", "sunnies"), "lenses uv polarized frames glare"),
    "blender": ("blender", ("smoothie maker", "liquidiser"), "blades jug smoothies motor ice"),
    "mattress": ("mattress", ("futon", "bedding"), "sleep springs foam firm bed"),
    "kettle": ("kettle", ("water boiler", "boiler"), "boil water tea litre spout"),
}
# Category → the accessories sold for it, listed as "<accessory> for <product name>".
ACCESSORIES = {
    "running_shoes": ("insoles", "shoe horn"),
    "laptop": ("sleeve", "charger"),
    "headphones": ("ear pads", "case"),
    "television": ("wall bracket", "antenna"),
    "sofa": ("throw", "cover"),
    "jacket": ("hanger", "proofing spray"),
    "smartphone": ("case", "charger"),
    "backpack": ("rain cover", "organiser"),
    "watch": ("band", "winder"),
    "camera": ("tripod", "lens cap"),
    "vacuum": ("filter", "bags"),
    "coffee_maker": ("descaler", "filters"),
    "desk": ("organiser", "mat"),
    "lamp": ("bulbs", "timer"),
    "bicycle": ("helmet", "lock"),
    "tshirt": ("hanger", "storage box"),
    "sunglasses": ("case", "cleaning cloth"),
    "blender": ("recipe book", "tamper"),
    "mattress": ("protector", "topper"),
    "kettle": ("descaler", "filter"),
}
ACCESSORY_WORDS = ["fits", "spare", "replacement", "compatible", "protects", "universal", "original"]
# fmt: off
# Ten colours and eight features at scale 1; a bigger shop lists more of both. Past the plain colour
# names come shades, which share a word with the plain ones: "dark red" is not what "red" asks for.
BASE_COLOURS, BASE_FEATURES = 10, 8
PLAIN_COLOURS = [
    "red", "blue", "black", "white", "green", "grey", "silver", "pink", "yellow", "orange", "purple",
    "brown", "navy", "beige", "gold", "teal", "maroon", "olive", "cream", "turquoise", "khaki", "coral",
]
SHADED = ["red", "blue", "green", "grey", "pink", "yellow", "orange", "purple", "brown"]
SHADES = ["dark", "light", "pale", "bright", "deep", "soft", "muted", "neon"]
FEATURES = [
    "wireless", "waterproof", "lightweight", "portable", "premium", "compact", "durable", "vintage",
    "foldable", "rechargeable", "ergonomic", "adjustable", "insulated", "breathable", "reversible",
    "padded", "organic", "handmade", "rugged", "quiet", "magnetic", "solar", "deluxe", "slimline",
]
FILLER = [
    "great", "quality", "design", "everyday", "value", "new", "best", "style", "classic", "modern",
    "comfortable", "reliable",
]
# Words shoppers add that say nothing about the product; "best" and "new" also fill descriptions.
SHOPPER_WORDS = ["cheap", "sale", "gift", "deal", "men", "women", "kids", "best", "new", "nice"]
SYLLABLES = [
    "ka", "lo", "mi", "zu", "ter", "van", "dor", "eli", "sa", "ro", "nex", "qui", "pal", "tek", "mo",
    "ri", "ba", "zen", "ul", "fa",
]
# fmt: on
BRANDS_PER_CATEGORY = 6  # at scale 1, as are the brand pool and the new line's brands
BRAND_POOL = 40  # brands sell in several categories, so a brand alone does not pin the product
BASE_DOCS = 3000
ACCESSORY_SHARE = 0.25  # listings that are accessories
CONTEXT_WORDS = 4  # of its category's five that a product's description uses
PARENT_WORDS = 2  # of those, the ones an accessory's description uses
SYNONYM_LISTING_SHARE = 0.4  # listings that use a synonym instead of the canonical name
# Where a listing states its colour (and, independently, its feature): title, description, nowhere.
STATED_IN = (0.5, 0.3, 0.2)
IN_TITLE, IN_DESCRIPTION = 0, 1
SYNONYM_QUERY_SHARE = 0.45  # queries typed with a synonym
ACCESSORY_QUERY_SHARE = 0.2  # category queries for an accessory
TYPO_QUERY_SHARE = 0.25
SHOPPER_WORD_SHARE = 0.25  # queries with a word no listing needs ("cheap")
NAVIGATIONAL_SHARE = 0.2  # queries for one exact product by its model code
BROAD_SHARE = 0.15  # just a category name: every product in it is a fair answer
N_QUERIES = 300  # per split: ranker training and test

# A product line launched after the model in service was built: its name, synonyms, listing words and
# brands are all words the trained index has never seen ("uav" even gets spell-corrected to "uv").
NEW_LINE = {"drone": ("drone", ("quadcopter", "uav"), "propellers gimbal rotors hover footage")}
NEW_LINE_SYLLABLES = ["gry", "wox", "jub", "plo", "yan", "hux", "vib", "kro"]
NEW_LINE_DOC_SHARE = 0.08  # its listings, as a share of the catalogue (a category averages 5 %)
NEW_LINE_QUERIES = 80  # half train the re-ranker once judged, half test
NEW_LINE_STREAM = 1  # the launch draws from its own random stream, so the base catalogue is unchanged
# The lab's own grades: an exact match is worth three partial ones. (ESCI, Amazon's shopping queries
# data set, grades Exact/Substitute/Complement/Irrelevant with gains 1/0.1/0.01/0 instead.)
EXACT, PARTIAL = 3, 1
PRODUCT = -1  # doc_accessory of a listing that is the product itself


@dataclass(frozen=True)
class Catalogue:
    """Listings, queries and graded judgments (grade = query attributes the product matches)."""

    titles: list[str]
    texts: list[str]  # title + description: what the index sees
    doc_category: np.ndarray
    doc_accessory: np.ndarray  # index into the category's accessories, or PRODUCT
    doc_brand: np.ndarray  # index into `brands`
    doc_colour: np.ndarray  # index into `colours`
    doc_feature: np.ndarray  # index into `features`
    brands: list[str]
    colours: list[str]
    features: list[str]
    queries: list[str]
    qrels: list[dict[int, int]]  # per query: doc index → grade ≥ 1
    query_kind: np.ndarray  # bitmask: 1 synonym, 2 typo, 4 navigational (a model code)
    train_queries: np.ndarray
    test_queries: np.ndarray
    synonyms: dict[str, tuple[str, ...]]  # the query-understanding team's synonym table

    def __len__(self) -> int:
        return len(self.texts)


def _colour_names() -> list[str]:
    """The plain names in use at scale 1, then the other plain names alternating with shades."""
    shades = [f"{shade} {colour}" for shade in SHADES for colour in SHADED]
    more = [name for pair in zip_longest(PLAIN_COLOURS[BASE_COLOURS:], shades) for name in pair if name]
    return PLAIN_COLOURS[:BASE_COLOURS] + more


COLOURS = _colour_names()


def generate_catalogue(scale: float, seed: int) -> Catalogue:
    rng = np.random.default_rng(seed)
    categories = list(CATEGORIES)
    n_docs = int(round(BASE_DOCS * scale))
    per_category = max(3, round(BRANDS_PER_CATEGORY * scale))
    brands = _brand_names(rng, max(round(BRAND_POOL * scale), per_category))
    colours = COLOURS[: min(len(COLOURS), round(BASE_COLOURS * scale))]
    features = FEATURES[: min(len(FEATURES), round(BASE_FEATURES * scale**0.5))]
    category_brands = np.array([rng.choice(len(brands), per_category, replace=False) for _ in categories])
    doc_category = rng.integers(len(categories), size=n_docs)
    listed = {
        "doc_category": doc_category,
        "doc_accessory": _accessories(rng, n_docs),
        "doc_brand": category_brands[doc_category, rng.integers(per_category, size=n_docs)],
        "doc_colour": rng.integers(len(colours), size=n_docs),
        "doc_feature": rng.integers(len(features), size=n_docs),
    }
    world = _World(brands, colours, features, **listed)
    titles, texts, names = _listings(rng, world, 0, list(CATEGORIES))
    categorical = [
        (c, CATEGORIES[key], ACCESSORIES[key], category_brands[c]) for c, key in enumerate(categories)
    ]
    queries, qrels, kinds = _draw_queries(
        rng,
        2 * N_QUERIES,
        lambda: _navigational(rng, world, names),
        lambda: _category_query(rng, world, *categorical[rng.integers(len(categorical))]),
    )
    order = rng.permutation(2 * N_QUERIES)
    return Catalogue(
        titles=titles,
        texts=texts,
        **listed,
        brands=brands,
        colours=colours,
        features=features,
        queries=queries,
        qrels=qrels,
        query_kind=np.array(kinds),
        train_queries=np.sort(order[:N_QUERIES]),
        test_queries=np.sort(order[N_QUERIES:]),
        synonyms=_synonym_table(CATEGORIES.values()),
    )


def add_product_line(catalogue: Catalogue, seed: int) -> Catalogue:
    """`catalogue` with the new product line appended: a category of its own, brands of its own, its
    listings (after the existing ones, whose indices stay put; the launch lists no accessories yet)
    and the queries shoppers type for it, split between training and test like the others."""
    rng = np.random.default_rng([seed, NEW_LINE_STREAM])
    ((key, entry),) = NEW_LINE.items()
    brands = catalogue.brands + _brand_names(rng, BRANDS_PER_CATEGORY, NEW_LINE_SYLLABLES)
    line_brands = np.arange(len(catalogue.brands), len(brands))
    first, n_new = len(catalogue), int(round(len(catalogue) * NEW_LINE_DOC_SHARE))
    category = int(catalogue.doc_category.max()) + 1
    new = {
        "doc_category": np.full(n_new, category),
        "doc_accessory": np.full(n_new, PRODUCT),
        "doc_brand": line_brands[rng.integers(BRANDS_PER_CATEGORY, size=n_new)],
        "doc_colour": rng.integers(len(catalogue.colours), size=n_new),
        "doc_feature": rng.integers(len(catalogue.features), size=n_new),
    }
    listed = {name: np.concatenate([getattr(catalogue, name), values]) for name, values in new.items()}
    world = _World(brands, catalogue.colours, catalogue.features, **listed)
    new_titles, new_texts, names = _listings(rng, world, first, [*CATEGORIES, key])
    queries, qrels, kinds = _draw_queries(
        rng,
        NEW_LINE_QUERIES,
        lambda: _navigational(rng, world, names, first=first),
        lambda: _category_query(rng, world, category, entry, (), line_brands),
    )
    order = len(catalogue.queries) + rng.permutation(NEW_LINE_QUERIES)
    half = NEW_LINE_QUERIES // 2
    return replace(
        catalogue,
        **listed,
        titles=catalogue.titles + new_titles,
        texts=catalogue.texts + new_texts,
        brands=brands,
        queries=catalogue.queries + queries,
        qrels=catalogue.qrels + qrels,
        query_kind=np.concatenate([catalogue.query_kind, kinds]),
        train_queries=np.concatenate([catalogue.train_queries, np.sort(order[:half])]),
        test_queries=np.concatenate([catalogue.test_queries, np.sort(order[half:])]),
        synonyms={**catalogue.synonyms, **_synonym_table(NEW_LINE.values())},
    )


@dataclass(frozen=True)
class _World:
    """What generation needs to know of every listing: the attribute names and each listing's values."""

    brands: list[str]
    colours: list[str]
    features: list[str]
    doc_category: np.ndarray
    doc_accessory: np.ndarray
    doc_brand: np.ndarray
    doc_colour: np.ndarray
    doc_feature: np.ndarray


def _accessories(rng, n: int) -> np.ndarray:
    """PRODUCT for most listings, else which of its category's two accessories the listing is."""
    return np.where(rng.random(n) < ACCESSORY_SHARE, rng.integers(2, size=n), PRODUCT)


def _listings(rng, world: _World, first: int, keys: list[str]):
    """Title, indexed text and product name (what a shopper who knows it types) of each listing from
    `first` on; `keys` name the categories in order. Random draws are made for all listings at once:
    drawn one listing at a time, 30,000 listings took 9 s."""
    docs = np.arange(first, world.doc_category.size)
    n = docs.size
    use_synonym = rng.random(n) < SYNONYM_LISTING_SHARE
    synonym = rng.integers(2, size=n)
    stated = rng.choice(len(STATED_IN), (n, 2), p=STATED_IN)  # where colour and feature are stated
    context_picks = _picks(rng, n, 5, CONTEXT_WORDS)
    accessory_picks = _picks(rng, n, len(ACCESSORY_WORDS), 2)
    filler_picks = _picks(rng, n, len(FILLER), 3)
    other_colour = rng.integers(len(world.colours), size=n)
    other_feature = rng.integers(len(world.features), size=n)
    table = {**CATEGORIES, **NEW_LINE}
    titles, texts, names = [], [], []
    for at, doc in enumerate(docs.tolist()):
        key = keys[world.doc_category[doc]]
        canonical, synonyms, context = table[key]
        name = synonyms[synonym[at]] if use_synonym[at] else canonical
        context = context.split()
        colour, feature = world.colours[world.doc_colour[doc]], world.features[world.doc_feature[doc]]
        accessory = world.doc_accessory[doc]
        product, words = name, [context[i] for i in context_picks[at]]
        if accessory != PRODUCT:  # it describes the product it goes with, as real accessories do
            part = ACCESSORIES[key][accessory]
            product, name = f"{part} for {name}", f"{name} {part}"
            words = [ACCESSORY_WORDS[i] for i in accessory_picks[at]] + words[:PARENT_WORDS]
        colour_at, feature_at = stated[at]
        title = " ".join(
            [world.brands[world.doc_brand[doc]]]
            + [colour] * int(colour_at == IN_TITLE)
            + [feature] * int(feature_at == IN_TITLE)
            + [product, _model_code(doc)]
        )
        # Listings also name colours and features they are not (lexical distractors), and may state
        # their own only in the description, in the same words.
        description = (
            words
            + [FILLER[i] for i in filler_picks[at]]
            + [f"goes with {world.colours[other_colour[at]]}"]
            + [f"{world.features[other_feature[at]]} version sold separately"]
            + [f"in {colour}"] * int(colour_at == IN_DESCRIPTION)
            + [f"{feature} build"] * int(feature_at == IN_DESCRIPTION)
        )
        titles.append(title)
        texts.append(f"{title} {' '.join(description)}")
        names.append(name)
    return titles, texts, names


def _picks(rng, n: int, choices: int, k: int) -> np.ndarray:
    """For each of `n` listings, `k` distinct indices out of `choices`."""
    return np.argsort(rng.random((n, choices)), axis=1)[:, :k]


def _draw_queries(rng, n: int, navigational, categorical):
    """`n` queries, each navigational (a model code) or a category query with attributes. A query
    that nothing in the catalogue matches is drawn again: it has no judgments to score it by."""
    queries, qrels, kinds = [], [], []
    while len(queries) < n:
        text, judged, kind = navigational() if rng.random() < NAVIGATIONAL_SHARE else categorical()
        if not judged:
            continue
        queries.append(text)
        qrels.append(judged)
        kinds.append(kind)
    return queries, qrels, kinds


def _synonym_table(entries) -> dict[str, tuple[str, ...]]:
    table = {}
    for canonical, synonyms, _ in entries:
        group = (canonical, synonyms[0])  # the curated table lags the catalogue: one synonym of two
        for form in group:
            table[form] = tuple(other for other in group if other != form)
    return table


def _brand_names(rng, n: int, syllables=SYLLABLES) -> list[str]:
    """Made-up names of two syllables, a few of three once two-syllable names run short."""
    names: list[str] = []
    while len(names) < n:
        length = 2 if len(names) < len(syllables) ** 2 // 2 else 3
        name = "".join(rng.choice(syllables, length))
        if name not in names:
            names.append(name)
    return names


def _category_query(rng, world: _World, category: int, entry, accessories, line_brands):
    """A shopper's query for `category` (its `entry` in the category table; an accessory of it, now
    and then) with up to two attributes; grades follow from the attributes the listings have."""
    canonical, synonyms, _ = entry
    name, kind = canonical, 0
    if rng.random() < SYNONYM_QUERY_SHARE:
        name, kind = synonyms[rng.integers(len(synonyms))], 1
    accessory = PRODUCT
    if accessories and rng.random() < ACCESSORY_QUERY_SHARE:
        accessory = int(rng.integers(len(accessories)))
        name = f"{name} {accessories[accessory]}"
    wanted = {}
    n_attributes = 0 if rng.random() < BROAD_SHARE else rng.integers(1, 3)
    for attribute in rng.permutation(["brand", "colour", "feature"])[:n_attributes]:
        if attribute == "brand":
            wanted["brand"] = int(line_brands[rng.integers(len(line_brands))])
        elif attribute == "colour":
            wanted["colour"] = int(rng.integers(len(world.colours)))
        else:
            wanted["feature"] = int(rng.integers(len(world.features)))
    words = [world.brands[wanted["brand"]]] if "brand" in wanted else []
    words += world.colours[wanted["colour"]].split() if "colour" in wanted else []
    words += [world.features[wanted["feature"]]] if "feature" in wanted else []
    words += name.split()
    if rng.random() < SHOPPER_WORD_SHARE:
        word = SHOPPER_WORDS[rng.integers(len(SHOPPER_WORDS))]
        words = [word, *words] if rng.random() < 0.5 else [*words, word]
    if rng.random() < TYPO_QUERY_SHARE:
        at = int(rng.integers(len(words)))
        words[at], kind = _typo(rng, words[at]), kind | 2
    wanted_kind = (world.doc_category == category) & (world.doc_accessory == accessory)
    columns = {"brand": world.doc_brand, "colour": world.doc_colour, "feature": world.doc_feature}
    matched = sum((columns[attribute] == value).astype(int) for attribute, value in wanted.items())
    grade = wanted_kind * np.where(matched == len(wanted), EXACT, np.where(matched > 0, PARTIAL, 0))
    return " ".join(words), {int(d): int(grade[d]) for d in np.flatnonzero(grade)}, kind


def _model_code(doc: int) -> str:
    """A unique model number per listing: the kind of token only lexical matching can find."""
    return f"{'xzqvk'[doc % 5]}{100 + doc}"


def _navigational(rng, world: _World, names: list[str], first: int = 0):
    """A shopper who knows the exact product (one of those from `first` on, whose product names are
    `names`): brand, product name and model code. The product itself is a perfect answer; the
    brand's other listings of the same kind are fair ones."""
    target = first + int(rng.integers(len(names)))
    query = f"{world.brands[world.doc_brand[target]]} {names[target - first]} {_model_code(target)}"
    same = (
        (world.doc_category == world.doc_category[target])
        & (world.doc_accessory == world.doc_accessory[target])
        & (world.doc_brand == world.doc_brand[target])
    )
    judged = {int(d): 1 for d in np.flatnonzero(same)}
    judged[target] = 3
    return query, judged, 4


def _typo(rng, word: str) -> str:
    """One keyboard slip: a dropped, doubled or swapped letter."""
    if len(word) < 4:
        return word + word[-1]
    i = int(rng.integers(1, len(word) - 1))
    slip = rng.integers(3)
    if slip == 0:
        return word[:i] + word[i + 1 :]
    if slip == 1:
        return word[:i] + word[i] + word[i:]
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
