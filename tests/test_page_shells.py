"""Pages rendered once per state and filled in for each person (app/invitations/page_shells)."""

from app.invitations.page_shells import ShellCache, cut, marker


def test_a_shell_is_cut_at_each_slot_and_filled_in_order():
    name, token = marker(), "Tk9_aXGq2"
    shell = cut(
        f"<p>{name}</p><a href='/i/{token}'>{name}</a>/i/{token}", {"name": name, "token": token}
    )
    assert shell.fill({"name": "Zoé", "token": "abc"}) == "<p>Zoé</p><a href='/i/abc'>Zoé</a>/i/abc"


def test_markers_are_words_of_128_random_bits():
    first, second = marker(), marker()
    assert first != second and first.isalnum() and len(first) == 4 + 32


def test_the_cache_renders_a_state_once_and_escapes_the_values():
    renders = []
    slot = marker()

    def render():
        renders.append(1)
        return f"<p>{slot}</p>", {"name": slot}

    cache = ShellCache(size=2)
    assert cache.page("a", render, {"name": "<i>Zoé</i>"}) == "<p>&lt;i&gt;Zoé&lt;/i&gt;</p>"
    assert cache.page("a", render, {"name": "Paul & Lou"}) == "<p>Paul &amp; Lou</p>"
    assert len(renders) == 1


def test_the_cache_keeps_at_most_its_size():
    cache = ShellCache(size=2)
    for state in range(5):
        cache.page(state, lambda: ("page", {}), {})
    assert len(cache.shells) <= 2
