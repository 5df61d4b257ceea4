"""A seeded product catalogue and the queries shoppers type, with graded relevance known exactly.

Each category has a canonical name most listings use and synonyms a few use; shoppers often type a
synonym, and sometimes a typo. Lexical search misses synonyms and typos, dense search blurs exact
brands and colours, so the two win on different queries and fusing them beats both.
"""

from __future__ import annotations

from dataclasses import dataclass

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
COLOURS = ("red", "blue", "black", "white", "green", "grey", "silver", "pink", "yellow", "orange")
FEATURES = ("wireless", "waterproof", "lightweight", "portable", "premium", "compact", "durable", "vintage")
FILLER = [
    "great",
    "quality",
    "design",
    "everyday",
    "value",
    "new",
    "best",
    "style",
    "classic",
    "modern",
    "comfortable",
    "reliable",
]
BRANDS_PER_CATEGORY = 6
BRAND_POOL = 40  # brands sell in several categories, so a brand alone does not pin the product
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "zu",
    "ter",
    "van",
    "dor",
    "eli",
    "sa",
    "ro",
    "nex",
    "qui",
    "pal",
    "tek",
    "mo",
    "ri",
    "ba",
    "zen",
    "ul",
    "fa",
]
BASE_DOCS = 3000
SYNONYM_LISTING_SHARE = 0.4  # listings that use a synonym instead of the canonical name
SYNONYM_QUERY_SHARE = 0.45  # queries typed with a synonym
TYPO_QUERY_SHARE = 0.25
NAVIGATIONAL_SHARE = 0.2  # queries for one exact product by its model code
BROAD_SHARE = 0.15  # just a category name: every product in it is a fair answer
N_QUERIES = 300  # per split: ranker training and test


@dataclass(frozen=True)
class Catalogue:
    """Listings, queries and graded judgments (grade = query attributes the product matches)."""

    titles: list[str]
    texts: list[str]  # title + description: what the index sees
    doc_category: np.ndarray
    doc_brand: np.ndarray  # index into `brands`
    doc_colour: np.ndarray
    doc_feature: np.ndarray
    brands: list[str]
    queries: list[str]
    qrels: list[dict[int, int]]  # per query: doc index → grade ≥ 1
    query_kind: np.ndarray  # bitmask: 1 synonym, 2 typo, 4 navigational (a model code)
    train_queries: np.ndarray
    test_queries: np.ndarray
    synonyms: dict[str, tuple[str, ...]]  # the query-understanding team's synonym table

    def __len__(self) -> int:
        return len(self.texts)


def generate_catalogue(scale: float, seed: int) -> Catalogue:
    rng = np.random.default_rng(seed)
    categories = list(CATEGORIES)
    brands = _brand_names(rng, BRAND_POOL)
    category_brands = np.array(
        [rng.choice(BRAND_POOL, BRANDS_PER_CATEGORY, replace=False) for _ in categories]
    )
    n_docs = int(round(BASE_DOCS * scale))
    doc_category = rng.integers(len(categories), size=n_docs)
    doc_brand = category_brands[doc_category, rng.integers(BRANDS_PER_CATEGORY, size=n_docs)]
    doc_colour = rng.integers(len(COLOURS), size=n_docs)
    doc_feature = rng.integers(len(FEATURES), size=n_docs)
    titles, texts = [], []
    for i in range(n_docs):
        canonical, synonyms, context = CATEGORIES[categories[doc_category[i]]]
        name = synonyms[rng.integers(len(synonyms))] if rng.random() < SYNONYM_LISTING_SHARE else canonical
        attributes = f"{COLOURS[doc_colour[i]]} {FEATURES[doc_feature[i]]}"
        title = f"{brands[doc_brand[i]]} {attributes} {name} {_model_code(i)}"
        words = context.split()
        # Listings also name colours and features they are not (lexical distractors).
        other_colour, other_feature = (
            COLOURS[rng.integers(len(COLOURS))],
            FEATURES[rng.integers(len(FEATURES))],
        )
        description = " ".join(
            list(rng.choice(words, 3, replace=False))
            + list(rng.choice(FILLER, 3, replace=False))
            + [f"goes with {other_colour}", f"{other_feature} version sold separately"]
        )
        titles.append(title)
        texts.append(f"{title} {description}")

    queries, qrels, kinds = [], [], []
    for _ in range(2 * N_QUERIES):
        if rng.random() < NAVIGATIONAL_SHARE:
            text, judged, kind = _navigational(rng, titles, doc_category, doc_brand)
        else:
            text, judged, kind = _query(
                rng, category_brands, brands, doc_category, doc_brand, doc_colour, doc_feature
            )
        queries.append(text)
        qrels.append(judged)
        kinds.append(kind)
    order = rng.permutation(2 * N_QUERIES)
    synonym_table = {}
    for canonical, synonyms, _ in CATEGORIES.values():
        group = (canonical, synonyms[0])  # the curated table lags the catalogue: one synonym of two
        for form in group:
            synonym_table[form] = tuple(other for other in group if other != form)
    return Catalogue(
        titles=titles,
        texts=texts,
        doc_category=doc_category,
        doc_brand=doc_brand,
        doc_colour=doc_colour,
        doc_feature=doc_feature,
        brands=brands,
        queries=queries,
        qrels=qrels,
        query_kind=np.array(kinds),
        train_queries=np.sort(order[:N_QUERIES]),
        test_queries=np.sort(order[N_QUERIES:]),
        synonyms=synonym_table,
    )


def _brand_names(rng, n: int) -> list[str]:
    names: list[str] = []
    while len(names) < n:
        name = "".join(rng.choice(SYLLABLES, 2))
        if name not in names:
            names.append(name)
    return names


def _query(rng, category_brands, brands, doc_category, doc_brand, doc_colour, doc_feature):
    """A shopper's query for a category with one or two attributes; grades follow from them."""
    category = int(rng.integers(len(CATEGORIES)))
    canonical, synonyms, _ = list(CATEGORIES.values())[category]
    kind = 0
    name = canonical
    if rng.random() < SYNONYM_QUERY_SHARE:
        name, kind = synonyms[rng.integers(len(synonyms))], 1
    wanted = {}
    n_attributes = 0 if rng.random() < BROAD_SHARE else rng.integers(1, 3)
    for attribute in rng.permutation(["brand", "colour", "feature"])[:n_attributes]:
        if attribute == "brand":
            wanted["brand"] = int(category_brands[category, rng.integers(BRANDS_PER_CATEGORY)])
        elif attribute == "colour":
            wanted["colour"] = int(rng.integers(len(COLOURS)))
        else:
            wanted["feature"] = int(rng.integers(len(FEATURES)))
    words = [brands[wanted["brand"]]] if "brand" in wanted else []
    words += [COLOURS[wanted["colour"]]] if "colour" in wanted else []
    words += [FEATURES[wanted["feature"]]] if "feature" in wanted else []
    words += name.split()
    if rng.random() < TYPO_QUERY_SHARE:
        at = int(rng.integers(len(words)))
        words[at], kind = _typo(rng, words[at]), kind | 2
    in_category = doc_category == category
    grade = np.zeros(doc_category.size, int) if wanted else in_category.astype(int)
    for attribute, value in wanted.items():
        column = {"brand": doc_brand, "colour": doc_colour, "feature": doc_feature}[attribute]
        grade += in_category & (column == value)
    return " ".join(words), {int(d): int(grade[d]) for d in np.flatnonzero(grade)}, kind


def _model_code(doc: int) -> str:
    """A unique model number per listing: the kind of token only lexical matching can find."""
    return f"{'xzqvk'[doc % 5]}{100 + doc}"


def _navigational(rng, titles, doc_category, doc_brand):
    """A shopper who knows the exact product: brand, product name and model code from its title.
    The product itself is a perfect answer; the brand's other products in the category are fair ones."""
    target = int(rng.integers(len(titles)))
    words = titles[target].split()
    query = f"{words[0]} {' '.join(words[3:-1])} {words[-1]}"  # brand, name, model code
    judged = {
        int(d): 1
        for d in np.flatnonzero((doc_category == doc_category[target]) & (doc_brand == doc_brand[target]))
    }
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
