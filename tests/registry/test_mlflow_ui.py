"""Moving production in the real MLflow UI is still held by the gate.

Headless Chromium opens the model version page of a ``mlflow server`` on
PostgreSQL, adds the ``production`` alias in the UI's alias editor as an
engineer would, and the server's webhook brings the change to a running
gatekeeper, which puts the alias back on the last vetted version.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from registry.gatekeeper import GatekeeperSettings, create_app
from registry.guard import REFUSED_TAG
from tests.registry.test_gatekeeper import SECRET
from tests.support.browser import chromium_page, find_chromium
from tests.support.servers import answers, running_server, wait_until

pytestmark = pytest.mark.slow

# Generous: the UI and the webhook round trip are slow on a busy machine.
UI_SECONDS = 60


@pytest.fixture
def gatekeeper(served_registry, monkeypatch):
    """A gatekeeper guarding the test's model, subscribed to alias changes."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", served_registry.url)
    settings = GatekeeperSettings(
        webhook_secret=SECRET, params_file=served_registry.folder / "params.yaml"
    )
    with running_server(create_app(settings)) as url:
        wait_until(lambda: answers(f"{url}/healthz"), 30, "the gatekeeper")
        webhook = served_registry.client.create_webhook(
            name=f"gatekeeper-{served_registry.model_name}",
            url=f"{url}/webhooks/mlflow",
            events=["model_version_alias.created"],
            secret=SECRET,
        )
        try:
            yield url
        finally:
            served_registry.client.delete_webhook(webhook.webhook_id)


@pytest.fixture
def page(tmp_path):
    """A page in headless Chromium, or a skip saying how to install it."""
    executable = find_chromium()
    if executable is None:
        pytest.skip(
            "no Chromium found (YONCA_CHROMIUM, or chromium on PATH): install it "
            "with scripts/ensure-chromium.sh as root (`make test` runs it) or set "
            "YONCA_CHROMIUM to a Chromium executable"
        )
    expect.set_options(timeout=UI_SECONDS * 1000)
    with chromium_page(executable, tmp_path / "chromium-profile") as page:
        page.set_default_timeout(UI_SECONDS * 1000)
        yield page


def version_page(page, served_registry, version: str) -> None:
    """Open the MLflow UI page of one version and wait until it has drawn."""
    model = served_registry.model_name
    page.goto(f"{served_registry.url}/#/models/{model}/versions/{version}")
    expect(page.get_by_text("Aliases", exact=True)).to_be_visible()


def aliases_field(page):
    """The Aliases field in the version page's header."""
    return page.get_by_test_id("descriptions-item").filter(has_text="Aliases")


def aliases_shown(page):
    """The alias tags in the version page's header."""
    return aliases_field(page).get_by_role("status")


def add_alias_in_ui(page, alias: str, replaced_version: str) -> None:
    """Type ``alias`` into the UI's alias editor and save it."""
    aliases_field(page).get_by_role("button", name="Add").click()
    editor = page.get_by_role("dialog")
    expect(editor).to_contain_text("Add/Edit alias")
    editor.get_by_role("combobox").click()
    page.keyboard.type(alias)
    page.keyboard.press("Enter")
    # The UI warns that the alias leaves the version it stands on now.
    warning = f"remove it from version {replaced_version}"
    expect(editor.get_by_role("alert")).to_contain_text(warning)
    editor.get_by_role("button", name="Save aliases").click()
    expect(editor).to_be_hidden()


def refusal(served_registry, version: str) -> str | None:
    """The gatekeeper's reason on ``version``, read through the REST API."""
    response = httpx.get(
        f"{served_registry.url}/api/2.0/mlflow/model-versions/get",
        params={"name": served_registry.model_name, "version": version},
    )
    response.raise_for_status()
    tags = response.json()["model_version"].get("tags", [])
    return next((tag["value"] for tag in tags if tag["key"] == REFUSED_TAG), None)


def production_version(served_registry) -> str:
    """The version ``production`` points at, read through the REST API."""
    response = httpx.get(
        f"{served_registry.url}/api/2.0/mlflow/registered-models/alias",
        params={"name": served_registry.model_name, "alias": "production"},
    )
    response.raise_for_status()
    return response.json()["model_version"]["version"]


def test_production_added_in_the_ui_to_a_failed_version_is_put_back(
    page, served_registry, gatekeeper
):
    vetted = served_registry.promoted(score=0.9)
    broken = served_registry.register(score=0.2)
    version_page(page, served_registry, broken)

    add_alias_in_ui(page, "production", replaced_version=vetted)

    # The gatekeeper tags the refused version before it moves the alias back.
    wait_until(
        lambda: (
            production_version(served_registry) == vetted
            and refusal(served_registry, broken) is not None
        ),
        UI_SECONDS,
        f"the gatekeeper to put production back on version {vetted}",
    )
    assert "gate-passed" in refusal(served_registry, broken)
    revert = f"revert production {broken} -> {vetted}"
    assert revert in served_registry.history()

    page.reload()
    name_cell = page.get_by_role("cell", name=REFUSED_TAG, exact=True)
    reason = page.get_by_role("row").filter(has=name_cell)
    reason.scroll_into_view_if_needed()
    expect(reason).to_contain_text("gate-passed")
    expect(aliases_shown(page)).to_have_count(0)

    version_page(page, served_registry, vetted)
    expect(aliases_shown(page).filter(has_text="production")).to_be_visible()
