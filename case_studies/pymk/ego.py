"""One user's neighbourhood as the Try it view draws it: the user, their friends, the people suggested
to them and the mutual friends that link them, laid out in rings by networkx."""

from __future__ import annotations

import networkx as nx
import numpy as np

from engine import palette

MAX_FRIENDS = 30  # drawn: the friends who introduce the most suggestions first
RINGS = ("You", "Friends", "Suggested", "Suggested, and became friends")
COLOURS = (palette.RED, palette.LIGHT_GREY, palette.BLUE, palette.SERIES[2])


def ego_option(graph: nx.Graph, user: int, suggested: np.ndarray, befriended: set[int], labels) -> dict:
    """An ECharts graph of `user`'s friends (at most MAX_FRIENDS) and `suggested` people, with the
    friendships among them; a suggestion that became a friendship after the cut is marked."""
    suggestions = suggested.tolist()
    friends = sorted(graph.adj[user], key=lambda f: (-sum(s in graph.adj[f] for s in suggestions), f))[
        :MAX_FRIENDS
    ]
    rings = [[user], friends, suggestions]
    drawn = graph.subgraph([user, *friends, *suggestions])
    position = nx.shell_layout(drawn, nlist=[r for r in rings if r], scale=1.0)
    role = {user: 0, **dict.fromkeys(friends, 1)}
    role.update({s: 3 if s in befriended else 2 for s in suggestions})
    nodes = [
        {
            "name": str(labels[node]),
            "x": float(position[node][0]),
            "y": float(-position[node][1]),
            "category": role[node],
            "symbolSize": 26 if node == user else 16 if role[node] >= 2 else 10,
            "value": f"{sum(s in graph.adj[node] for s in suggestions)} suggested among their friends"
            if role[node] == 1
            else f"{len(set(graph.adj[node]) & set(graph.adj[user]))} mutual friends",
        }
        for node in drawn.nodes
    ]
    links = [{"source": str(labels[a]), "target": str(labels[b])} for a, b in drawn.edges]
    return {
        "tooltip": {"formatter": "{b}: {c}"},
        "legend": {"data": list(RINGS), "bottom": 0},
        "animation": False,
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "roam": True,
                "categories": [
                    {"name": name, "itemStyle": {"color": colour}}
                    for name, colour in zip(RINGS, COLOURS, strict=True)
                ],
                "data": nodes,
                "links": links,
                "lineStyle": {"color": palette.EDGE, "opacity": 0.5, "width": 1},
                "emphasis": {"focus": "adjacency"},
                "label": {"show": False},
            }
        ],
    }
