"""Monte Carlo tree search (UCT) for design: site assignments of a lattice and SMILES strings.

UCT (Kocsis & Szepesvari, "Bandit based Monte-Carlo planning", ECML 2006) grows a search tree
one node per iteration. Each iteration has four steps:

1. **selection** - from the root, follow the child with the largest upper confidence bound
   ``Q(child) + c * sqrt(2 ln N(parent) / N(child))`` (value estimate plus an exploration bonus
   that shrinks as a child is visited more; ``c`` is the ``exploration`` constant, on the scale
   of the values seen so far or, as in MDTS, of the values seen below the parent);
2. **expansion** - at a node that still has untried children, add one of them;
3. **rollout** (simulation) - complete the partial design below the new node at random (or with
   a generative model) and evaluate the complete design once;
4. **back-up** - add the value to every node on the path back to the root.

:class:`LatticeTreeSearch` does this over site assignments as MDTS does (Dieb, Ju, Yoshizoe, Hou,
Shiomi, Tsuda, "MDTS: automatic complex materials design using Monte Carlo tree search",
Sci. Technol. Adv. Mater. 18, 498 (2017)): tree depth ``d`` decides the species on site ``d``,
rollouts fill the remaining sites at random under the composition constraint, and every complete
structure is evaluated at most once (a cache, as in MDTS). :class:`SmilesTreeSearch` does it over
SMILES tokens with a chemical language model as the rollout policy, the idea of ChemTS (Yang,
Zhang, Yoshizoe, Terayama, Tsuda, "ChemTS: an efficient python library for de novo molecular
generation", Sci. Technol. Adv. Mater. 18, 972 (2017)).

Both return every evaluation in order as an :class:`xarray.Dataset` over ``evaluation``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from mi_workbench._checks import check_choice, check_finite_number, check_positive_int

#: Ways of backing up a rollout's value into a node's estimate ``Q``.
BACKUPS = ("max", "mean")
#: What the exploration bonus is scaled by: the range of all values seen so far, or (MDTS) the
#: range of the values seen below the node whose children are compared.
EXPLORATION_RANGES = ("global", "node")
#: Named settings of :class:`LatticeTreeSearch`.
PRESETS = {
    "mdts": {"backup": "mean", "exploration": math.sqrt(2.0) / 4.0, "exploration_range": "node"},
}

_MAX_ENUMERATE = 4096  # enumerate a subtree's unevaluated completions when it is this small


def _check_seed(random_seed: object) -> int | None:
    if random_seed is None:
        return None
    if isinstance(random_seed, bool) or not isinstance(random_seed, (int, np.integer)):
        raise TypeError(f"random_seed must be an integer or None, got {random_seed!r}")
    if random_seed < 0:
        raise ValueError(f"random_seed must be >= 0, got {random_seed}")
    return int(random_seed)


def _check_exploration(exploration: object) -> float:
    value = check_finite_number("exploration", exploration)
    if value < 0:
        raise ValueError(f"exploration must be >= 0 (0: no exploration bonus), got {value}")
    return value


def _progress_bar(total: int, desc: str, progress: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="eval", disable=not progress)


class _Node:
    """One node of a search tree: the statistics of the designs that passed through it."""

    __slots__ = ("best", "children", "depth", "label", "n_done", "total", "visits", "worst")

    def __init__(self, label: Any, depth: int, n_done: int = 0) -> None:
        self.label = label
        self.depth = depth
        self.children: dict[Any, _Node] = {}
        self.visits = 0
        self.total = 0.0
        self.best = -math.inf
        self.worst = math.inf
        self.n_done = n_done  # evaluated complete designs below this node (lattice search)

    def update(self, value: float) -> None:
        self.visits += 1
        self.total += value
        self.best = max(self.best, value)
        self.worst = min(self.worst, value)

    def q(self, backup: str) -> float:
        return self.best if backup == "max" else self.total / self.visits


def _uct_scores(
    node: _Node,
    candidates: Sequence[_Node],
    backup: str,
    exploration: float,
    low: float,
    high: float,
    exploration_range: str = "global",
) -> np.ndarray:
    """Upper confidence bounds of ``candidates`` (children of ``node``) on values rescaled by
    the range ``[low, high]`` of all values seen so far.

    ``(Q - low) / span + c' sqrt(2 ln N(node) / N(child))`` with ``span = high - low`` and
    ``c' = c`` ("global") or ``c' = c (node.best - node.worst) / span`` ("node"), which is
    MDTS's ``Q + c (max - min below the node) sqrt(...)`` divided by ``span``: the same ranking.
    """
    span = high - low if high > low else 1.0
    scale = exploration
    if exploration_range == "node":
        scale = exploration * (node.best - node.worst) / span if node.visits else 0.0
    log_n = math.log(max(node.visits, 1))
    return np.array(
        [
            (child.q(backup) - low) / span + scale * math.sqrt(2.0 * log_n / child.visits)
            for child in candidates
        ]
    )


def _uct_child(
    node: _Node,
    candidates: Sequence[_Node],
    backup,
    exploration,
    low,
    high,
    rng,
    exploration_range: str = "global",
):
    """The child with the largest upper confidence bound (ties broken at random)."""
    scores = _uct_scores(node, candidates, backup, exploration, low, high, exploration_range)
    best = np.flatnonzero(scores >= scores.max() - 1e-12)
    return candidates[int(best[rng.integers(len(best))])]


def _multinomial(counts: Sequence[int]) -> int:
    """Number of distinct arrangements of ``counts[k]`` items of each kind."""
    total = math.factorial(sum(counts))
    for count in counts:
        total //= math.factorial(count)
    return total


class LatticeTreeSearch:
    """UCT Monte Carlo tree search over the species on the sites of a lattice (MDTS).

    Tree depth ``d`` decides the species on site ``site_order[d]``; a rollout fills the remaining
    sites at random (respecting ``n_of_each`` when given) and evaluates the complete structure.
    A structure is evaluated at most once: sub-trees whose structures have all been evaluated are
    closed, and rollouts draw only structures not evaluated yet, so every iteration costs exactly
    one objective evaluation. The defaults (max back-up, ``c`` on the global value range) suit a
    search for the single best structure; ``preset="mdts"`` gives MDTS's own UCT.

    Parameters
    ----------
    n_sites : int
        Number of lattice sites.
    objective : callable
        ``objective(structure) -> float``. ``structure`` is a string of one character per site
        (the species labels, e.g. ``"0110..."``), or with ``objective_input="array"`` an integer
        array of species indices (positions in ``species``).
    n_of_each : mapping of label to int, optional
        Composition constraint: how many sites carry each species (e.g. ``{"0": 8, "1": 8}``);
        the counts must add up to ``n_sites``. Its keys define the species.
    species : sequence of labels, optional
        Species when there is no composition constraint (default ``("0", "1")``). Labels are
        single characters (or the integers 0-9).
    maximize : bool
        Maximise (default) or minimise the objective.
    exploration : float, optional
        UCT exploration constant ``c`` (default 0.5; ``preset="mdts"``: ``sqrt(2) / 4``).
    backup : {"max", "mean"}, optional
        Node value ``Q``: the best value seen below the node (default; suits a search for the
        single best structure) or the mean (classic UCT; MDTS).
    exploration_range : {"global", "node"}, optional
        What ``c`` is relative to. ``"global"`` (default): values are rescaled to [0, 1] with
        the smallest and largest value seen so far, so ``c`` is on the scale of that range.
        ``"node"`` (MDTS): when a node's children are compared, the bonus is
        ``c * (max - min of the values seen below that node) * sqrt(2 ln N / n)``, so a
        sub-tree whose values barely differ is explored little and a node with a single value
        below it is pure exploitation.
    preset : {"mdts"}, optional
        Named settings; arguments given explicitly override them. ``"mdts"`` is the UCT of
        MDTS's reference code (github.com/tsudalab/MDTS, ``mdts/node.py``: ``cal_ucb`` and
        ``bck_prop``): mean back-up, ``exploration_range="node"`` and ``c = sqrt(2) / 4``.
        Two details differ from that code: the range is that of the values actually seen
        (MDTS starts a node's maximum at 0, which widens the range when all values are
        negative), and a sub-tree whose structures are all evaluated is closed instead of
        MDTS's adjustment of ``c`` when a selection finds nothing new.
    n_rollouts : int
        Rollouts (each one a new evaluation, each backed up) per expansion; MDTS's
        ``play_out``.
    site_order : sequence of int, optional
        Order in which tree depths decide sites (default ``0 .. n_sites - 1``).
    objective_input : {"string", "array"}
        What the objective receives.
    random_seed : int, optional
        Seed of expansion order, tie breaking and rollouts.

    Examples
    --------
    >>> target = "0101010101"
    >>> def matches(s):
    ...     return sum(a == b for a, b in zip(s, target))
    >>> search = LatticeTreeSearch(10, matches, n_of_each={"0": 5, "1": 5}, random_seed=0)
    >>> result = search.run(200, progress=False)
    >>> str(result["structure"].values[int(np.argmax(result["value"].values))])
    '0101010101'
    >>> mdts = LatticeTreeSearch(10, matches, n_of_each={"0": 5, "1": 5}, preset="mdts")
    >>> mdts.backup, mdts.exploration_range, round(mdts.exploration, 4)
    ('mean', 'node', 0.3536)
    """

    def __init__(
        self,
        n_sites: int,
        objective: Callable[[Any], float],
        *,
        n_of_each: Mapping[Any, int] | None = None,
        species: Sequence[Any] | None = None,
        maximize: bool = True,
        exploration: float | None = None,
        backup: str | None = None,
        exploration_range: str | None = None,
        preset: str | None = None,
        n_rollouts: int = 1,
        site_order: Sequence[int] | None = None,
        objective_input: str = "string",
        random_seed: int | None = None,
    ) -> None:
        self.n_sites = check_positive_int("n_sites", n_sites)
        if not callable(objective):
            raise TypeError(f"objective must be a callable(structure) -> float, got {objective!r}")
        self.objective = objective
        if n_of_each is not None and species is not None:
            raise ValueError(
                "give either n_of_each (a composition constraint) or species, not both"
            )
        if n_of_each is not None:
            if not isinstance(n_of_each, Mapping) or not n_of_each:
                raise TypeError(
                    f"n_of_each must be a non-empty mapping of species to count, got {n_of_each!r}"
                )
            labels = list(n_of_each)
            counts = [check_positive_int(f"n_of_each[{k!r}]", v, 0) for k, v in n_of_each.items()]
            if sum(counts) != self.n_sites:
                raise ValueError(
                    f"n_of_each counts add up to {sum(counts)}, but n_sites is {self.n_sites}; "
                    "every site must get one species"
                )
            self.counts: tuple[int, ...] | None = tuple(counts)
        else:
            labels = list(species) if species is not None else ["0", "1"]
            self.counts = None
        self.species = tuple(self._check_label(label) for label in labels)
        if len(set(self.species)) != len(self.species) or len(self.species) < 2:
            raise ValueError(f"species must be at least two distinct labels, got {labels!r}")
        self.maximize = bool(maximize)
        if preset is not None:
            check_choice("preset", preset, list(PRESETS))
        settings = {"backup": "max", "exploration": 0.5, "exploration_range": "global"}
        settings.update(PRESETS.get(preset, {}) if preset is not None else {})
        given = {
            "backup": backup,
            "exploration": exploration,
            "exploration_range": exploration_range,
        }
        settings.update({key: value for key, value in given.items() if value is not None})
        self.preset = preset
        self.exploration = _check_exploration(settings["exploration"])
        self.backup = check_choice("backup", settings["backup"], BACKUPS)
        self.exploration_range = check_choice(
            "exploration_range", settings["exploration_range"], EXPLORATION_RANGES
        )
        self.n_rollouts = check_positive_int("n_rollouts", n_rollouts)
        if site_order is None:
            order = list(range(self.n_sites))
        else:
            order = [int(i) for i in site_order]
            if sorted(order) != list(range(self.n_sites)):
                raise ValueError(
                    f"site_order must be a permutation of 0..{self.n_sites - 1}, got {site_order!r}"
                )
        self.site_order = np.asarray(order, dtype=np.int64)
        self.objective_input = check_choice("objective_input", objective_input, ["string", "array"])
        self.random_seed = _check_seed(random_seed)
        self.n_structures = (
            _multinomial(self.counts) if self.counts else len(self.species) ** self.n_sites
        )

    @staticmethod
    def _check_label(label: object) -> str:
        if isinstance(label, (int, np.integer)) and not isinstance(label, bool) and 0 <= label <= 9:
            return str(int(label))
        if isinstance(label, str) and len(label) == 1:
            return label
        raise ValueError(f"species labels must be single characters or integers 0-9, got {label!r}")

    # -- helpers on species-index sequences in tree order ------------------------------------
    def _remaining(self, prefix: Sequence[int]) -> list[int] | None:
        if self.counts is None:
            return None
        left = list(self.counts)
        for k in prefix:
            left[k] -= 1
        return left

    def _n_completions(self, prefix: Sequence[int]) -> int:
        left = self._remaining(prefix)
        n_free = self.n_sites - len(prefix)
        return _multinomial(left) if left is not None else len(self.species) ** n_free

    def _allowed(self, prefix: Sequence[int]) -> list[int]:
        if len(prefix) == self.n_sites:
            return []
        left = self._remaining(prefix)
        return [k for k in range(len(self.species)) if left is None or left[k] > 0]

    def _random_completion(self, prefix: Sequence[int], rng: np.random.Generator) -> tuple:
        n_free = self.n_sites - len(prefix)
        left = self._remaining(prefix)
        if left is None:
            rest = rng.integers(len(self.species), size=n_free)
        else:
            rest = np.repeat(np.arange(len(self.species)), left)
            rng.shuffle(rest)
        return tuple(prefix) + tuple(int(k) for k in rest)

    def _all_completions(self, prefix: tuple) -> list[tuple]:
        out = []
        stack = [prefix]
        while stack:
            current = stack.pop()
            if len(current) == self.n_sites:
                out.append(current)
            else:
                stack.extend(current + (k,) for k in self._allowed(current))
        return out

    def _structure(self, tree_sequence: tuple) -> np.ndarray:
        """Species index per site (in site order) of a sequence in tree order."""
        sites = np.empty(self.n_sites, dtype=np.int64)
        sites[self.site_order] = tree_sequence
        return sites

    def _text(self, sites: np.ndarray) -> str:
        return "".join(self.species[k] for k in sites)

    # -- the search ----------------------------------------------------------------------------
    def _check_n_evaluations(self, n_evaluations: object) -> int:
        """``n_evaluations`` as an int, or raise if it exceeds the distinct structures."""
        n_evaluations = check_positive_int("n_evaluations", n_evaluations)
        if n_evaluations > self.n_structures:
            raise ValueError(
                f"n_evaluations must be at most the number of distinct structures "
                f"{self.n_structures}, got {n_evaluations}"
            )
        return n_evaluations

    def run(self, n_evaluations: int, progress: bool = True) -> xr.Dataset:
        """Search with a budget of ``n_evaluations`` objective evaluations.

        Parameters
        ----------
        n_evaluations : int
            Objective evaluations (distinct structures); at most the number of structures.
        progress : bool
            Show a progress bar (tqdm).

        Returns
        -------
        xarray.Dataset
            Over ``evaluation`` (1..n): ``structure`` (str), ``value``, ``best_so_far`` (in the
            objective's direction) and ``depth`` (tree depth the rollout started from).
            ``attrs``: ``n_sites``, ``species``, ``n_of_each`` (or empty), ``maximize``,
            ``exploration``, ``backup``, ``exploration_range``, ``preset`` (or empty),
            ``n_rollouts``, ``random_seed``, ``n_structures``,
            ``n_tree_nodes`` and ``seconds``.

        Examples
        --------
        >>> search = LatticeTreeSearch(6, lambda s: s.count("1"), random_seed=1)
        >>> search.run(20, progress=False)["best_so_far"].values[-1]
        np.float64(6.0)
        """
        n_evaluations = self._check_n_evaluations(n_evaluations)
        rng = np.random.default_rng(self.random_seed)
        sign = 1.0 if self.maximize else -1.0
        cache: dict[tuple, float] = {}
        root = _Node(None, 0)
        records: list[tuple[str, float, int]] = []
        low, high = math.inf, -math.inf
        start = time.perf_counter()
        n_nodes = 1

        def evaluate(sequence: tuple) -> float:
            sites = self._structure(sequence)
            argument = self._text(sites) if self.objective_input == "string" else sites.copy()
            value = check_finite_number("objective value", self.objective(argument))
            cache[sequence] = value
            return value

        def n_done_below(prefix: tuple) -> int:
            depth = len(prefix)
            return sum(1 for seq in cache if seq[:depth] == prefix)

        def open_child(node: _Node, prefix: tuple, k: int) -> bool:
            child = node.children.get(k)
            if child is not None:
                return child.n_done < self._n_completions(prefix + (k,))
            return n_done_below(prefix + (k,)) < self._n_completions(prefix + (k,))

        def rollout(prefix: tuple) -> tuple:
            for _ in range(64):
                sequence = self._random_completion(prefix, rng)
                if sequence not in cache:
                    return sequence
            if self._n_completions(prefix) <= _MAX_ENUMERATE:
                rest = [s for s in self._all_completions(prefix) if s not in cache]
                return rest[int(rng.integers(len(rest)))]
            while True:  # an open sub-tree with many completions: keep drawing
                sequence = self._random_completion(prefix, rng)
                if sequence not in cache:
                    return sequence

        bar = _progress_bar(n_evaluations, "tree search", progress)
        try:
            while len(cache) < n_evaluations:
                # selection
                node, prefix, path = root, (), [root]
                while True:
                    allowed = self._allowed(prefix)
                    untried = [
                        k for k in allowed if k not in node.children and open_child(node, prefix, k)
                    ]
                    if untried or not allowed:
                        break
                    tried = [
                        node.children[k]
                        for k in allowed
                        if k in node.children and open_child(node, prefix, k)
                    ]
                    node = _uct_child(
                        node,
                        tried,
                        self.backup,
                        self.exploration,
                        low,
                        high,
                        rng,
                        self.exploration_range,
                    )
                    prefix = prefix + (node.label,)
                    path.append(node)
                # expansion
                if untried:
                    k = untried[int(rng.integers(len(untried)))]
                    child = _Node(k, len(prefix) + 1, n_done_below(prefix + (k,)))
                    node.children[k] = child
                    n_nodes += 1
                    prefix = prefix + (k,)
                    path.append(child)
                # rollouts and back-up
                for _ in range(min(self.n_rollouts, n_evaluations - len(cache))):
                    if self._n_completions(prefix) <= path[-1].n_done:
                        break
                    sequence = rollout(prefix)
                    value = evaluate(sequence)
                    scaled = sign * value
                    low, high = min(low, scaled), max(high, scaled)
                    for visited in path:
                        visited.update(scaled)
                        visited.n_done += 1
                    records.append((self._text(self._structure(sequence)), value, len(prefix)))
                    bar.update(1)
        finally:
            bar.close()
        values = np.array([r[1] for r in records], dtype=float)
        best = np.maximum.accumulate(values) if self.maximize else np.minimum.accumulate(values)
        return xr.Dataset(
            {
                "structure": ("evaluation", np.array([r[0] for r in records], dtype=object)),
                "value": ("evaluation", values),
                "best_so_far": ("evaluation", best),
                "depth": ("evaluation", np.array([r[2] for r in records], dtype=np.int64)),
            },
            coords={"evaluation": np.arange(1, len(records) + 1)},
            attrs={
                "method": "UCT lattice tree search (MDTS)",
                "n_sites": self.n_sites,
                "species": "".join(self.species),
                "n_of_each": ""
                if self.counts is None
                else ", ".join(f"{s}: {c}" for s, c in zip(self.species, self.counts, strict=True)),
                "maximize": int(self.maximize),
                "exploration": self.exploration,
                "backup": self.backup,
                "exploration_range": self.exploration_range,
                "preset": self.preset or "",
                "n_rollouts": self.n_rollouts,
                "random_seed": -1 if self.random_seed is None else self.random_seed,
                "n_structures": self.n_structures,
                "n_tree_nodes": n_nodes,
                "seconds": time.perf_counter() - start,
            },
        )


def uct_search(
    objective: Callable[[Any], float],
    n_sites: int,
    n_evaluations: int,
    *,
    progress: bool = False,
    **options: Any,
) -> xr.Dataset:
    """Run :class:`LatticeTreeSearch` once; ``options`` are its keyword arguments.

    Examples
    --------
    >>> result = uct_search(lambda s: s.count("1"), 8, 30, n_of_each=None, random_seed=0)
    >>> int(result.sizes["evaluation"])
    30
    """
    search = LatticeTreeSearch(n_sites, objective, **options)
    return search.run(n_evaluations, progress=progress)


def random_lattice_search(
    objective: Callable[[Any], float],
    n_sites: int,
    n_evaluations: int,
    *,
    random_seed: int | None = None,
    **options: Any,
) -> xr.Dataset:
    """The baseline: distinct structures drawn uniformly at random, in the same result format.

    ``options`` are the keyword arguments of :class:`LatticeTreeSearch` that define the
    structures (``n_of_each``, ``species``, ``maximize``, ``objective_input``).

    Examples
    --------
    >>> result = random_lattice_search(lambda s: s.count("1"), 8, 10, random_seed=0)
    >>> len(set(result["structure"].values.tolist()))
    10
    """
    search = LatticeTreeSearch(n_sites, objective, random_seed=random_seed, **options)
    n_evaluations = search._check_n_evaluations(n_evaluations)
    rng = np.random.default_rng(search.random_seed)
    seen: set[tuple] = set()
    records = []
    start = time.perf_counter()
    while len(records) < n_evaluations:
        sequence = search._random_completion((), rng)
        if sequence in seen:
            continue
        seen.add(sequence)
        sites = search._structure(sequence)
        text = search._text(sites)
        argument = text if search.objective_input == "string" else sites
        records.append((text, check_finite_number("objective value", objective(argument))))
    values = np.array([r[1] for r in records])
    best = np.maximum.accumulate(values) if search.maximize else np.minimum.accumulate(values)
    return xr.Dataset(
        {
            "structure": ("evaluation", np.array([r[0] for r in records], dtype=object)),
            "value": ("evaluation", values),
            "best_so_far": ("evaluation", best),
        },
        coords={"evaluation": np.arange(1, n_evaluations + 1)},
        attrs={
            "method": "random search",
            "n_sites": search.n_sites,
            "random_seed": -1 if search.random_seed is None else search.random_seed,
            "n_structures": search.n_structures,
            "seconds": time.perf_counter() - start,
        },
    )


# -- SMILES tree search (ChemTS) -------------------------------------------------------------

_END = "</s>"  # the language model's end symbol, as a child of a prefix node


def _next_tokens(language_model, prefix: list[str], rng, n_samples: int, max_tokens: int):
    """Distinct next tokens after ``prefix`` drawn from the model, most frequent first.

    Uses only the public ``extend``: the token at position ``len(prefix)`` of each completion
    (or the end symbol when the completion stops there). Sampled counts estimate the model's
    next-token probabilities; ChemTS expands a node the same way, by sampling its network.
    """
    counts: dict[str, int] = {}
    for _ in range(n_samples):
        try:
            tokens = language_model.extend(prefix, rng, max_tokens)
        except RuntimeError:
            continue
        token = tokens[len(prefix)] if len(tokens) > len(prefix) else _END
        counts[token] = counts.get(token, 0) + 1
    return sorted(counts, key=lambda t: -counts[t])


class _SmilesNode(_Node):
    __slots__ = ("closed", "untried")

    def __init__(self, label: Any, depth: int) -> None:
        super().__init__(label, depth)
        self.untried: list[str] | None = None  # not expanded yet
        self.closed = False  # nothing new can be found below


def _canonical(smiles: str) -> str | None:
    from mi_workbench.molecules.language import canonical_smiles

    return canonical_smiles(smiles)


class SmilesTreeSearch:
    """UCT tree search over SMILES tokens with a chemical language model as rollout policy.

    The idea of ChemTS (Yang et al., Sci. Technol. Adv. Mater. 18, 972 (2017)) with the
    workbench's n-gram model in place of ChemTS's recurrent network. A node is a token prefix;
    expanding it adds the next tokens the language model proposes (sampled ``n_expand`` times,
    most frequent first); a rollout completes the prefix with the model
    (``language_model.extend``) and scores the molecule with ``reward``. A rollout that RDKit
    cannot read gets ``invalid_reward``. Rewards are cached per canonical SMILES, so a molecule
    found again costs no new reward call.

    Parameters
    ----------
    language_model : NGramLanguageModel
        A fitted model with ``extend(tokens, rng, max_tokens)``
        (:func:`~mi_workbench.molecules.language.default_language_model`).
    reward : callable
        ``reward(canonical_smiles) -> float`` (larger is better). ``None`` or NaN mean "could
        not be evaluated" and count as ``invalid_reward``.
    exploration : float
        UCT exploration constant on rewards rescaled to [0, 1] by the range seen so far.
    backup : {"mean", "max"}
        Node value: mean reward of its rollouts (ChemTS, default) or the best.
    n_expand : int
        Samples of the next token when a node is expanded (more: more children).
    max_tokens : int
        Length at which rollouts start closing branches and rings.
    invalid_reward : float
        Reward of a rollout that is not a valid molecule.
    widening : float
        Progressive widening: a node gets a new child only while it has fewer than
        ``visits ** widening`` children (1: every child before going deeper, as plain UCT;
        smaller values let the tree grow deep within a few hundred rollouts).
    random_seed : int, optional
        Seed of expansions, tie breaking and rollouts.

    Examples
    --------
    >>> from mi_workbench.molecules.language import default_language_model
    >>> search = SmilesTreeSearch(default_language_model(), lambda s: s.count("O"),
    ...                           random_seed=0)
    >>> result = search.run(30, progress=False)
    >>> bool(result["valid"].any())
    True
    """

    def __init__(
        self,
        language_model: Any,
        reward: Callable[[str], float | None],
        *,
        exploration: float = 0.1,
        backup: str = "mean",
        n_expand: int = 30,
        max_tokens: int = 60,
        invalid_reward: float = 0.0,
        widening: float = 0.4,
        random_seed: int | None = None,
    ) -> None:
        if not callable(getattr(language_model, "extend", None)):
            raise TypeError(
                "language_model must be a fitted NGramLanguageModel (with an extend method), "
                f"got {type(language_model).__name__}"
            )
        if not callable(reward):
            raise TypeError(f"reward must be a callable(smiles) -> float, got {reward!r}")
        self.language_model = language_model
        self.reward = reward
        self.exploration = _check_exploration(exploration)
        self.backup = check_choice("backup", backup, BACKUPS)
        self.n_expand = check_positive_int("n_expand", n_expand)
        self.max_tokens = check_positive_int("max_tokens", max_tokens)
        self.invalid_reward = check_finite_number("invalid_reward", invalid_reward)
        self.widening = check_finite_number("widening", widening)
        if not 0 < self.widening <= 1:
            raise ValueError(f"widening must lie in (0, 1], got {self.widening}")
        self.random_seed = _check_seed(random_seed)

    def _score(self, tokens: list[str], cache: dict[str, float]) -> tuple[str, str, bool, float]:
        from mi_workbench.molecules.language import join_tokens

        raw = join_tokens(tokens)
        canonical = _canonical(raw) if tokens else None
        if canonical is None:
            return raw, "", False, self.invalid_reward
        if canonical not in cache:
            value = self.reward(canonical)
            if value is None or not math.isfinite(float(value)):
                value = self.invalid_reward
            cache[canonical] = float(value)
        return raw, canonical, True, cache[canonical]

    def run(self, n_rollouts: int, progress: bool = True) -> xr.Dataset:
        """Grow the tree for ``n_rollouts`` iterations (one rollout each).

        Returns
        -------
        xarray.Dataset
            Over ``rollout`` (1..n): ``smiles`` (canonical; empty when invalid), ``raw_smiles``
            (as generated), ``valid``, ``new`` (first time this molecule was found), ``reward``,
            ``best_so_far`` and ``depth`` (prefix length the rollout started from). ``attrs``:
            settings, ``n_tree_nodes``, ``n_reward_calls``, ``validity`` and ``seconds``.

        Examples
        --------
        >>> from mi_workbench.molecules.language import default_language_model
        >>> search = SmilesTreeSearch(default_language_model(), lambda s: len(s), random_seed=1)
        >>> search.run(10, progress=False).sizes["rollout"]
        10
        """
        n_rollouts = check_positive_int("n_rollouts", n_rollouts)
        rng = np.random.default_rng(self.random_seed)
        model = self.language_model
        root = _SmilesNode(None, 0)
        cache: dict[str, float] = {}
        records = []
        low, high = math.inf, -math.inf
        n_nodes = 1
        start = time.perf_counter()
        bar = _progress_bar(n_rollouts, "SMILES tree search", progress)
        try:
            while len(records) < n_rollouts and not root.closed:
                node, prefix, path = root, [], [root]
                # selection: down through fully expanded nodes
                while True:
                    if node.untried is None and node.label != _END:
                        node.untried = (
                            _next_tokens(model, prefix, rng, self.n_expand, self.max_tokens)
                            if len(prefix) < self.max_tokens
                            else []
                        )
                    if node.label == _END:
                        break
                    open_children = [c for c in node.children.values() if not c.closed]
                    room = len(node.children) < max(1.0, node.visits**self.widening)
                    if node.untried and (room or not open_children):
                        break
                    if not open_children:  # a dead end: nothing below can be expanded
                        node.closed = True
                        break
                    node = _uct_child(
                        node, open_children, self.backup, self.exploration, low, high, rng
                    )
                    path.append(node)
                    if node.label != _END:
                        prefix = [*prefix, node.label]
                if node.closed:
                    for visited in reversed(path[:-1]):
                        if visited.untried or any(not c.closed for c in visited.children.values()):
                            break
                        visited.closed = True
                    continue
                # expansion
                if node.label != _END and node.untried:
                    token = node.untried.pop(0)
                    child = _SmilesNode(token, node.depth + 1)
                    node.children[token] = child
                    n_nodes += 1
                    path.append(child)
                    node = child
                    if token != _END:
                        prefix = [*prefix, token]
                # rollout
                if node.label == _END:
                    tokens = list(prefix)
                    node.closed = True  # a complete string: evaluated once
                else:
                    try:
                        tokens = model.extend(prefix, rng, self.max_tokens)
                    except RuntimeError:
                        tokens = []
                n_before = len(cache)
                raw, canonical, valid, value = self._score(tokens, cache)
                low, high = min(low, value), max(high, value)
                for visited in path:
                    visited.update(value)
                records.append((canonical, raw, valid, len(cache) > n_before, value, len(prefix)))
                bar.update(1)
        finally:
            bar.close()
        return _smiles_dataset(
            records,
            {
                "method": "UCT SMILES tree search (ChemTS)",
                "exploration": self.exploration,
                "backup": self.backup,
                "n_expand": self.n_expand,
                "max_tokens": self.max_tokens,
                "invalid_reward": self.invalid_reward,
                "widening": self.widening,
                "random_seed": -1 if self.random_seed is None else self.random_seed,
                "n_tree_nodes": n_nodes,
                "n_reward_calls": len(cache),
                "seconds": time.perf_counter() - start,
            },
        )


def _smiles_dataset(records: list[tuple], attrs: dict[str, Any]) -> xr.Dataset:
    rewards = np.array([r[4] for r in records], dtype=float)
    valid = np.array([r[2] for r in records], dtype=bool)
    attrs = {**attrs, "validity": float(valid.mean()) if len(valid) else math.nan}
    return xr.Dataset(
        {
            "smiles": ("rollout", np.array([r[0] for r in records], dtype=object)),
            "raw_smiles": ("rollout", np.array([r[1] for r in records], dtype=object)),
            "valid": ("rollout", valid),
            "new": ("rollout", np.array([r[3] for r in records], dtype=bool)),
            "reward": ("rollout", rewards),
            "best_so_far": ("rollout", np.maximum.accumulate(rewards)),
            "depth": ("rollout", np.array([r[5] for r in records], dtype=np.int64)),
        },
        coords={"rollout": np.arange(1, len(records) + 1)},
        attrs=attrs,
    )


def sample_rollouts(
    language_model: Any,
    reward: Callable[[str], float | None],
    n_rollouts: int,
    *,
    max_tokens: int = 60,
    invalid_reward: float = 0.0,
    random_seed: int | None = None,
) -> xr.Dataset:
    """The baseline of :class:`SmilesTreeSearch`: rollouts from the empty prefix, no tree.

    Unguided generation with the language model, scored like the tree search, in the same
    format (``depth`` is 0 throughout).

    Examples
    --------
    >>> from mi_workbench.molecules.language import default_language_model
    >>> result = sample_rollouts(default_language_model(), len, 5, random_seed=0)
    >>> result.sizes["rollout"]
    5
    """
    search = SmilesTreeSearch(
        language_model,
        reward,
        max_tokens=max_tokens,
        invalid_reward=invalid_reward,
        random_seed=random_seed,
    )
    n_rollouts = check_positive_int("n_rollouts", n_rollouts)
    rng = np.random.default_rng(search.random_seed)
    cache: dict[str, float] = {}
    records = []
    start = time.perf_counter()
    for _ in range(n_rollouts):
        try:
            tokens = language_model.extend([], rng, search.max_tokens)
        except RuntimeError:
            tokens = []
        n_before = len(cache)
        raw, canonical, valid, value = search._score(tokens, cache)
        records.append((canonical, raw, valid, len(cache) > n_before, value, 0))
    return _smiles_dataset(
        records,
        {
            "method": "language-model rollouts (no tree)",
            "max_tokens": search.max_tokens,
            "invalid_reward": search.invalid_reward,
            "random_seed": -1 if search.random_seed is None else search.random_seed,
            "n_reward_calls": len(cache),
            "seconds": time.perf_counter() - start,
        },
    )


# -- rewards -----------------------------------------------------------------------------------


# ChemTS's standardisation of the three terms: np.mean and np.std (ddof=0) of the baseline files
# mcts_logp_improved_version/{logP_values,SA_scores,cycle_scores}.txt of github.com/tsudalab/ChemTS
# (commit 4174c36), which hold the terms of the first 10,000 molecules of ZINC 250k; the SA and
# ring terms are stored negated (larger is better), as add_node_type.check_node_type uses them.
_CHEMTS_LOGP = (2.4713477640000012, 1.4449891243959943)
_CHEMTS_SA = (-3.050930517295006, 0.8381024508503763)
_CHEMTS_CYCLE = (-0.0504, 0.2902754553867757)
_CHEMTS_SQUASH_SLOPE = 0.8  # mcts_logp_improved_version/mcts_logp.py: 0.8 s / (1 + |0.8 s|)


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def penalized_logp(
    smiles: str, *, normalized: bool = False, squash: bool | None = None
) -> float | None:
    """Penalised logP: Crippen logP minus the synthetic-accessibility score minus large rings.

    With ``normalized=False`` (default) this is the **unnormalised** penalised logP,
    ``logP - SA - max(0, largest ring size - 6)``, each term in its own units and rings from
    RDKit's ring perception: the ``penalized_logp`` of MolDQN's code (google-research
    ``mol_dqn/chemgraph/dqn/py/molecules.py``, after Jin et al., JT-VAE, ICML 2018, Sec. 3.2).
    It is not ChemTS's reward. With ``normalized=True`` it is **ChemTS's reward**: each term
    standardised with the ZINC statistics ChemTS uses and summed,

    ``J = (logP - 2.4713) / 1.4450 + (-SA + 3.0509) / 0.8381 + (-ring + 0.0504) / 0.2903``

    (``add_node_type.check_node_type`` in github.com/tsudalab/ChemTS,
    ``mcts_logp_improved_version``; the means and population standard deviations are those of
    the files ``logP_values.txt``, ``SA_scores.txt`` and ``cycle_scores.txt`` there, the
    first 10,000 molecules of ZINC 250k), then squashed into (-1, 1) as ChemTS's rollouts
    back it up: ``0.8 J / (1 + |0.8 J|)`` (``mcts_logp.py`` there; the first version,
    ``mcts_logp_original_version``, used the logistic ``1 / (1 + exp(-J))``).
    ``squash=False`` returns ``J`` itself, the score ChemTS reports for its best molecules
    (Yang et al., Sci. Technol. Adv. Mater. 18, 972 (2017)). Code derived from GCPN
    standardises with the statistics of all 250k molecules instead (logP 2.4571 +- 1.4343,
    SA -3.0526 +- 0.8335, ring -0.0486 +- 0.2860); its ``J`` differs from ChemTS's by
    about 0.01-0.03, more for molecules with large rings.

    logP is RDKit's Crippen logP (``Descriptors.MolLogP`` in ChemTS), SA the score of Ertl &
    Schuffenhauer (J. Cheminf. 1, 8 (2009)) from RDKit's Contrib folder (the same ``sascorer``
    as ChemTS's). The ring term uses RDKit's smallest set of smallest rings; ChemTS takes the
    largest cycle of networkx's ``cycle_basis``, which on bridged and caged ring systems can
    be a larger, non-minimal cycle (the ring term then differs; 275 of the 16,673 SMILES in
    ChemTS's ``data/smile_trainning.csv`` with networkx 3.7).

    Parameters
    ----------
    smiles : str
        The molecule.
    normalized : bool
        ChemTS's standardised reward instead of the unnormalised sum.
    squash : bool, optional
        Squash the standardised reward into (-1, 1) as ChemTS's rollouts do (default: the
        same as ``normalized``); only with ``normalized=True``.

    Returns
    -------
    float or None
        The score (larger is better), or None for a SMILES RDKit cannot read.

    Examples
    --------
    >>> round(penalized_logp("CCCCCC"), 2) > round(penalized_logp("OCC(O)CO"), 2)
    True
    >>> -1 < penalized_logp("CCCCCC", normalized=True) < 1
    True
    """
    from rdkit import Chem, RDLogger
    from rdkit.Chem import Crippen

    if not isinstance(smiles, str):
        raise TypeError(f"smiles must be a SMILES string, got {type(smiles).__name__}")
    normalized = _check_flag("normalized", normalized)
    squash = normalized if squash is None else _check_flag("squash", squash)
    if squash and not normalized:
        raise ValueError(
            "squash=True needs normalized=True: ChemTS squashes the standardised reward only"
        )
    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return None
    rings = [len(ring) for ring in mol.GetRingInfo().AtomRings()]
    ring_penalty = max(0, max(rings, default=0) - 6)
    logp, sa = Crippen.MolLogP(mol), _sa_score(mol)
    if not normalized:
        return float(logp - sa - ring_penalty)
    score = (
        (logp - _CHEMTS_LOGP[0]) / _CHEMTS_LOGP[1]
        + (-sa - _CHEMTS_SA[0]) / _CHEMTS_SA[1]
        + (-ring_penalty - _CHEMTS_CYCLE[0]) / _CHEMTS_CYCLE[1]
    )
    if squash:
        score = _CHEMTS_SQUASH_SLOPE * score / (1.0 + abs(_CHEMTS_SQUASH_SLOPE * score))
    return float(score)


def _sa_score(mol) -> float:
    import importlib
    import sys
    from pathlib import Path

    from rdkit import RDConfig

    folder = str(Path(RDConfig.RDContribDir) / "SA_Score")
    if folder not in sys.path:
        sys.path.append(folder)
    return float(importlib.import_module("sascorer").calculateScore(mol))


def gap_target_reward(target_ev: float, *, width_ev: float = 0.5, oracle=None):
    """A reward for a HOMO-LUMO gap close to ``target_ev``: ``exp(-((gap - target) / width)^2)``.

    The gap comes from ``oracle(smiles) -> dict`` (default: the GFN2-xTB oracle
    :func:`~mi_workbench.molecules.oracles.xtb_properties`); a failed calculation gives None
    (counted as an invalid rollout).

    Examples
    --------
    >>> reward = gap_target_reward(8.0, oracle=lambda s: {"ok": True, "homo_lumo_gap": 8.0})
    >>> reward("CCO")
    1.0
    """
    target_ev = check_finite_number("target_ev", target_ev)
    from mi_workbench._checks import check_positive

    width_ev = check_positive("width_ev", width_ev)
    if oracle is None:
        from mi_workbench.molecules.oracles import xtb_properties as oracle
    if not callable(oracle):
        raise TypeError(f"oracle must be a callable(smiles) -> dict, got {oracle!r}")

    def reward(smiles: str) -> float | None:
        result = oracle(smiles)
        if not result.get("ok"):
            return None
        return float(math.exp(-(((result["homo_lumo_gap"] - target_ev) / width_ev) ** 2)))

    return reward
