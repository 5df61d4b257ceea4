"""A seeded product catalogue and the queries shoppers type, with graded relevance known exactly.

Each category has a canonical name most listings use and synonyms a few use; shoppers often type a
synonym, and sometimes a typo. Lexical search misses synonyms and typos, dense search blurs exact
brands and colours, so the two win on different queries and fusing them beats both.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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

# A product line launched after the model in service was built: its name, synonyms, listing words and
# brands are all words the trained index has never seen ("uav" even gets spell-corrected to "uv").
NEW_LINE = {"drone": ("drone", ("quadcopter", "uav"), "propellers gimbal rotors hover footage")}
NEW_LINE_SYLLABLES = ["gry", "wox", "jub", "plo", "yan", "hux", "vib", "kro"]
NEW_LINE_DOC_SHARE = 0.08  # its listings, as a share of the catalogue (a category averages 5 %)
NEW_LINE_QUERIES = 80  # half train the re-ranker once judged, half test
NEW_LINE_STREAM = 1  # the launch draws from its own random stream, so the base catalogue is unchanged


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
    entries = [CATEGORIES[categories[c]] for c in doc_category]
    titles, texts = _listings(rng, 0, entries, brands, doc_brand, doc_colour, doc_feature)
    queries, qrels, kinds = _draw_queries(
        rng,
        2 * N_QUERIES,
        lambda: _navigational(rng, titles, doc_category, doc_brand),
        lambda: _query(rng, category_brands, brands, doc_category, doc_brand, doc_colour, doc_feature),
    )
    order = rng.permutation(2 * N_QUERIES)
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
        synonyms=_synonym_table(CATEGORIES.values()),
    )


def add_product_line(catalogue: Catalogue, seed: int) -> Catalogue:
    """`catalogue` with the new product line appended: a category of its own, brands of its own, its
    listings (after the existing ones, whose indices stay put) and the queries shoppers type for it,
    split between training and test like the others."""
    rng = np.random.default_rng([seed, NEW_LINE_STREAM])
    (entry,) = NEW_LINE.values()
    brands = catalogue.brands + _brand_names(rng, BRANDS_PER_CATEGORY, NEW_LINE_SYLLABLES)
    line_brands = np.arange(len(catalogue.brands), len(brands))
    first, n_new = len(catalogue), int(round(len(catalogue) * NEW_LINE_DOC_SHARE))
    category = int(catalogue.doc_category.max()) + 1
    new = {
        "doc_category": np.full(n_new, category),
        "doc_brand": line_brands[rng.integers(BRANDS_PER_CATEGORY, size=n_new)],
        "doc_colour": rng.integers(len(COLOURS), size=n_new),
        "doc_feature": rng.integers(len(FEATURES), size=n_new),
    }
    listed = {name: np.concatenate([getattr(catalogue, name), values]) for name, values in new.items()}
    new_titles, new_texts = _listings(
        rng, first, [entry] * n_new, brands, new["doc_brand"], new["doc_colour"], new["doc_feature"]
    )
    titles = catalogue.titles + new_titles
    queries, qrels, kinds = _draw_queries(
        rng,
        NEW_LINE_QUERIES,
        lambda: _navigational(rng, titles, listed["doc_category"], listed["doc_brand"], first=first),
        lambda: _category_query(rng, category, entry, line_brands, brands, **listed),
    )
    order = len(catalogue.queries) + rng.permutation(NEW_LINE_QUERIES)
    half = NEW_LINE_QUERIES // 2
    return replace(
        catalogue,
        **listed,
        titles=titles,
        texts=catalogue.texts + new_texts,
        brands=brands,
        queries=catalogue.queries + queries,
        qrels=catalogue.qrels + qrels,
        query_kind=np.concatenate([catalogue.query_kind, kinds]),
        train_queries=np.concatenate([catalogue.train_queries, np.sort(order[:half])]),
        test_queries=np.concatenate([catalogue.test_queries, np.sort(order[half:])]),
        synonyms={**catalogue.synonyms, **_synonym_table(NEW_LINE.values())},
    )


def _listings(rng, first_doc, entries, brands, doc_brand, doc_colour, doc_feature):
    """Title and indexed text of each listing, numbered from `first_doc`; `entries` are the listings'
    categories (canonical name, synonyms, context words) and the arrays their attributes."""
    titles, texts = [], []
    for at, (canonical, synonyms, context) in enumerate(entries):
        name = synonyms[rng.integers(len(synonyms))] if rng.random() < SYNONYM_LISTING_SHARE else canonical
        attributes = f"{COLOURS[doc_colour[at]]} {FEATURES[doc_feature[at]]}"
        title = f"{brands[doc_brand[at]]} {attributes} {name} {_model_code(first_doc + at)}"
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
    return titles, texts


def _draw_queries(rng, n: int, navigational, categorical):
    """`n` queries, each navigational (a model code) or a category query with attributes."""
    queries, qrels, kinds = [], [], []
    for _ in range(n):
        text, judged, kind = navigational() if rng.random() < NAVIGATIONAL_SHARE else categorical()
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
    names: list[str] = []
    while len(names) < n:
        name = "".join(rng.choice(syllables, 2))
        if name not in names:
            names.append(name)
    return names


def _query(rng, category_brands, brands, doc_category, doc_brand, doc_colour, doc_feature):
    """A shopper's query for a random category with one or two attributes; grades follow from them."""
    category = int(rng.integers(len(CATEGORIES)))
    entry = list(CATEGORIES.values())[category]
    return _category_query(
        rng,
        category,
        entry,
        category_brands[category],
        brands,
        doc_category,
        doc_brand,
        doc_colour,
        doc_feature,
    )


def _category_query(
    rng, category, entry, line_brands, brands, doc_category, doc_brand, doc_colour, doc_feature
):
    """A query for `category` (its `entry` in the category table, its brands `line_brands`)."""
    canonical, synonyms, _ = entry
    kind = 0
    name = canonical
    if rng.random() < SYNONYM_QUERY_SHARE:
        name, kind = synonyms[rng.integers(len(synonyms))], 1
    wanted = {}
    n_attributes = 0 if rng.random() < BROAD_SHARE else rng.integers(1, 3)
    for attribute in rng.permutation(["brand", "colour", "feature"])[:n_attributes]:
        if attribute == "brand":
            wanted["brand"] = int(line_brands[rng.integers(len(line_brands))])
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


def _navigational(rng, titles, doc_category, doc_brand, first: int = 0):
    """A shopper who knows the exact product (one of those from `first` on): brand, product name and
    model code from its title. The product itself is a perfect answer; the brand's other products in
    the category are fair ones."""
    target = first + int(rng.integers(len(titles) - first))
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
