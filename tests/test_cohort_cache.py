"""The cohort layer's caches: bounded, least recently used first out, found by identity (`IdentityCache`)
or by equal keys (`BoundedCache`), never by an address that another object could reuse."""

from __future__ import annotations

import pytest

from rectoplan.cohort.cache import BoundedCache, IdentityCache


class Key:
    """Equal to every other Key: only identity tells two apart."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key)

    def __hash__(self) -> int:
        return 0


def test_identity_cache_finds_the_same_object_only() -> None:
    cache: IdentityCache[Key, int] = IdentityCache(4)
    a, b = Key(), Key()
    assert cache.get(a, lambda: 1) == 1
    assert cache.get(a, lambda: 2) == 1  # kept
    assert cache.get(b, lambda: 3) == 3  # equal, but another object
    assert a in cache and b in cache and Key() not in cache


def test_identity_cache_is_bounded_and_drops_the_least_recently_used() -> None:
    cache: IdentityCache[Key, int] = IdentityCache(2)
    a, b, c = Key(), Key(), Key()
    cache.get(a, lambda: 1)
    cache.get(b, lambda: 2)
    cache.get(a, lambda: 0)  # a used again: b is now the oldest
    cache.get(c, lambda: 3)
    assert len(cache) == 2 and a in cache and c in cache and b not in cache
    assert cache.get(b, lambda: 4) == 4  # built again


def test_an_entry_keeps_its_key_alive_so_its_address_is_never_reused() -> None:
    cache: IdentityCache[object, int] = IdentityCache(8)
    cache.get(object(), lambda: 1)  # the caller drops its reference at once
    for _ in range(100):  # new objects can never land on the kept key's address
        assert cache.get(object(), lambda: 2) == 2
        cache.clear()
        cache.get(object(), lambda: 1)


def test_bounded_cache_finds_equal_keys() -> None:
    cache: BoundedCache[tuple[str, ...], int] = BoundedCache(2)
    assert cache.get(("a",), lambda: 1) == 1
    assert cache.get(("a",), lambda: 2) == 1
    cache.get(("b",), lambda: 3)
    cache.get(("a",), lambda: 0)
    cache.get(("c",), lambda: 4)  # ("b",) was the least recently used
    assert cache.get(("b",), lambda: 5) == 5 and len(cache) == 2


@pytest.mark.parametrize("kind", [IdentityCache, BoundedCache])
def test_a_cache_holds_at_least_one_entry(kind: type) -> None:
    with pytest.raises(ValueError):
        kind(0)
