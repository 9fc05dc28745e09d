"""Every error, whoever raises it, reads {"detail": ..., "errors": [{"field", "message"}]}."""

from __future__ import annotations

from tests.api.helpers import assert_error


def test_malformed_json_is_400_with_a_clear_message(owner_api):
    body = assert_error(owner_api.post("/clients", raw="{name: Initech"), 400)
    assert "not valid JSON" in body["detail"]


def test_a_body_that_is_not_utf8_is_400(owner_api):
    assert_error(owner_api.post("/clients", raw=b"\xff\xfe{}"), 400)


def test_an_array_instead_of_an_object_is_422_on_the_body(owner_api):
    body = assert_error(owner_api.post("/clients", [{"name": "Initech"}]), 422, "body")
    assert "JSON object" in body["detail"]


def test_an_empty_body_where_one_is_required_is_422_on_the_body(owner_api):
    assert_error(owner_api.post("/clients"), 422, "body")


def test_a_missing_required_field_is_named(owner_api):
    body = assert_error(owner_api.post("/clients", {"currency": "EUR"}), 422, "name")
    assert body["errors"] == [{"field": "name", "message": "Field required"}]


def test_a_string_where_a_number_belongs_is_named(owner_api, agency):
    response = owner_api.patch(f"/clients/{agency.client.pk}", {"payment_terms_days": "soon"})
    assert_error(response, 422, "payment_terms_days")


def test_an_unknown_field_is_refused_rather_than_ignored(owner_api):
    response = owner_api.post("/clients", {"name": "Initech", "colour": "red"})
    assert_error(response, 422, "colour")


def test_a_bad_query_parameter_is_named(owner_api):
    assert_error(owner_api.get("/clients", {"archived": "perhaps"}), 422, "archived")


def test_a_service_validation_error_names_each_field(owner_api):
    response = owner_api.post(
        "/clients", {"name": "Initech", "country": "XX", "vat_id": "DE000", "currency": "EUR"}
    )
    body = assert_error(response, 422, "country", "vat_id")
    assert "country" in body["detail"]


def test_a_permission_error_from_a_service_is_403(member_api):
    body = assert_error(member_api.post("/clients", {"name": "Initech"}), 403)
    assert "clients.manage" in body["detail"]


def test_an_unknown_id_is_404(owner_api):
    assert_error(owner_api.get("/clients/987654321"), 404)


def test_an_id_too_long_to_exist_is_404_not_an_overflow(owner_api):
    assert_error(owner_api.get("/clients/99999999999999999999999999"), 404)


def test_an_unknown_endpoint_is_404_json(owner_api):
    body = assert_error(owner_api.get("/no/such/thing"), 404)
    assert "/api/v1/no/such/thing" in body["detail"]


def test_a_wrong_method_is_405_json_listing_the_allowed_ones(owner_api):
    response = owner_api.put("/clients", {"name": "Initech"})
    body = assert_error(response, 405)
    assert response["Allow"] == "GET, POST"
    assert "GET, POST" in body["detail"]


def test_text_with_nul_characters_is_refused_by_field(owner_api):
    assert_error(owner_api.post("/clients", {"name": "Ini\x00tech"}), 422, "name")


def test_deleting_a_client_with_projects_is_refused_with_a_message(owner_api, agency):
    body = assert_error(owner_api.delete(f"/clients/{agency.client.pk}"), 422, "client")
    assert "archived" in body["detail"]


def test_null_for_a_field_that_cannot_be_empty_is_refused_by_name(owner_api, agency):
    response = owner_api.patch(f"/clients/{agency.client.pk}", {"city": None})
    body = assert_error(response, 422, "city")
    assert "leave it out" in body["detail"]


def test_null_clears_a_field_where_that_means_something(owner_api, agency):
    agency.project.budget_kind = "money"
    agency.project.budget_amount = 1000
    agency.project.save()
    response = owner_api.patch(
        f"/projects/{agency.project.pk}", {"budget_kind": "none", "budget_amount": None}
    )
    assert response.status_code == 200
    assert response.json()["budget_amount"] is None
