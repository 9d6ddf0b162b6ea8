"""app/spare_pages.py without a server: which links take a page built ahead."""
from types import SimpleNamespace

from app import spare_pages


def request(**arguments):
    return SimpleNamespace(arguments={k: [v.encode()] for k, v in arguments.items()})


def test_only_the_bare_link_takes_a_page_built_ahead():
    assert spare_pages._bare(request(), None)
    # Bokeh's own arguments (an embedded page's) are not the page's query
    assert spare_pages._bare(request(**{"bokeh-absolute-url": "http://x/main"}), None)
    for query in ({"eta": "0.3"}, {"view": "basin"}, {"compare": "model:xy"}, {"eta": ""}):
        assert not spare_pages._bare(request(**query), None)


def test_a_page_of_ones_own_is_not_a_spare():
    from bokeh.document import Document
    assert not spare_pages.is_spare(Document())


def test_the_number_of_spare_pages_asked_for(caplog):
    assert spare_pages.spares_asked(None) == spare_pages.DEFAULT_SPARES
    assert spare_pages.spares_asked(" 7 ") == 7
    assert spare_pages.spares_asked("0") == 0          # none: every page in its turn
    assert caplog.records == []
    for garbage in ("", "many", "-3", "2.5", "nan"):
        assert spare_pages.spares_asked(garbage) == spare_pages.DEFAULT_SPARES
    # a clear word for each, none for the empty value (the same as unset)
    assert len([r for r in caplog.records if "EOS_SPARE_PAGES" in r.getMessage()]) == 4
