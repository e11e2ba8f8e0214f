from pathlib import Path

from streams.settings import Settings

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert f"`WATCHFLOOR_{name.upper()}`" in README, name


def test_environment_overrides_defaults(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("WATCHFLOOR_KAFKA_BOOTSTRAP", "k1:9092,k2:9092")
    monkeypatch.setenv("WATCHFLOOR_WINDOW_GRACE", "600")
    s = Settings()
    assert s.bootstrap == "k1:9092,k2:9092" and not s.uses_local_broker
    assert s.window_grace == 600.0
    assert Settings(kafka_bootstrap=None, kafka_port=1234).bootstrap == "127.0.0.1:1234"
