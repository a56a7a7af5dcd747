import mcvd


def test_version():
    assert mcvd.__version__ == "0.1.0"
