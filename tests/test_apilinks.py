"""tools/apilinks.py: names of the code in a page's prose link to their API entries."""

from tools.apilinks import link_api_names, resolve


def test_public_objects_and_modules_resolve():
    assert resolve("dlbook.layers.Affine") == ("ref", "dlbook.layers.core.Affine")
    assert resolve("dlbook.conv.conv2d") == ("ref", "dlbook.conv.conv2d")
    assert resolve("dlbook.pooling") == ("page", "reference/api/pooling.md")
    assert resolve("dlbook.layers.recurrent") == ("page", "reference/api/layers.md")
    for private_or_missing in ("dlbook.__version__", "dlbook.conv._gemm", "dlbook.nothing", "dlbook.layers.Nope"):
        assert resolve(private_or_missing) is None


def test_prose_is_linked_code_and_headings_are_not():
    page = (
        "The class is `dlbook.layers.Affine`, in `dlbook.layers`; [`dlbook.conv`](x.md) stays.\n"
        "```python\n`dlbook.layers.Affine`\n```\n"
        "## `dlbook.layers`\n"
        "`dlbook.nothing` stays plain.\n"
    )
    out = link_api_names(page, "03-training/layers.md").split("\n")
    assert out[0] == ("The class is [`dlbook.layers.Affine`][dlbook.layers.core.Affine], in "
                      "[`dlbook.layers`](../reference/api/layers.md); [`dlbook.conv`](x.md) stays.")
    assert out[2] == "`dlbook.layers.Affine`"          # inside a code block
    assert out[4] == "## `dlbook.layers`"              # a heading
    assert out[5] == "`dlbook.nothing` stays plain."
