"""Chapter 04's exercises, answered from the notebook's variables (`ns`: its globals)."""

import math


def exercise_1(ns):
    tree = ns["toy_tree"]
    first = [tree.nodes[i] for i in tree.nodes[0].children]
    best = max(first, key=lambda n: (n.visits, n.value, -n.id))  # most visited; ties: higher value, then earlier
    return best.step


def exercise_2(ns):
    tree, c = ns["toy_tree"], ns["C"]
    root = tree.nodes[0]
    scores = {}
    for child in (tree.nodes[i] for i in root.children):
        scores[child.step] = math.inf if child.visits == 0 else \
            child.value_sum / child.visits + c * math.sqrt(math.log(root.visits) / child.visits)
    return max(scores, key=scores.get)


def exercise_3(ns):
    records = ns["runs"]["vanilla", ns["SEED"]][1]
    rates = []
    for record in records:
        terminals = [n for n in record["nodes"] if n["terminal"] and not n["dead_end"]]
        rates.append(sum(bool(n["passed_reference"]) for n in terminals) / len(terminals) if terminals else 0.0)
    return sum(rates) / len(rates)
