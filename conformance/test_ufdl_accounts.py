"""UFDL scenarios: the lifecycle of teams (rename, soft delete, reinstate, hard delete) and users
(lookup by name, update, deactivation), and who may do each.

Every team and user here is the run's own (created with --allow-create-accounts on a live server,
where users can only be deactivated afterwards)."""

from __future__ import annotations

import pytest

from conformance.client import every_case
from conformance.reporting import rule


@pytest.fixture
def w(ufdl_world):
    ufdl_world.require_accounts()
    return ufdl_world


def team_of(w, label: str) -> dict:
    response = w.client.get(f"/v1/teams/{w.new_team(label)}")
    return w.client.expect(response, 200)


def team_with_member(w, label: str, level: str):
    """A team of the run and a user of the run who is a member with `level`."""
    team = team_of(w, label)
    member = w.new_user(f"{label}-member")
    w.add_member(team["pk"], member, level)
    return team, member


# -- teams -----------------------------------------------------------------------------------------

@rule("ufdl.teams.rename")
def test_put_and_patch_rename_a_team(w):
    c, team = w.client, team_of(w, "rename")
    with every_case() as case:
        for method in ("PUT", "PATCH"):
            with case(method):
                name = w.name(f"renamed-{method.lower()}")
                body = c.expect(c.request(method, f"/v1/teams/{team['pk']}", json={"name": name}), 200)
                c.check(body == {**team, "name": name}, None, f"the team renamed to {name!r}, the rest unchanged",
                        str(body))
                read = c.get(f"/v1/teams/{team['pk']}")
                c.check(c.expect(read, 200).get("name") == name, read, f"name {name!r} read back")


@rule("ufdl.teams.rename-duplicate-400")
def test_renaming_onto_an_active_team_name_is_400(w):
    c = w.client
    first, second = team_of(w, "dup-a"), team_of(w, "dup-b")
    response = c.patch(f"/v1/teams/{second['pk']}", json={"name": first["name"]})
    body = c.expect(response, 400)
    c.check(body == {"name": ["team with this name already exists."]}, response,
            '{"name": ["team with this name already exists."]}')


@rule("ufdl.perm.team-change-needs-team-admin")
def test_only_team_admins_rename_or_delete_a_team(ufdl_members):
    team, w = ufdl_members, ufdl_members.w
    with every_case() as case:
        for level, session in [*team.members.items(), ("none", team.outsider)]:
            with case(f"rename as {level}"):
                client = session.client()
                response = client.patch(f"/v1/teams/{team.pk}", json={"name": w.name(f"by-{level}")})
                client.expect(response, 200 if level == "A" else 403, note=f"a member with {level}")


@rule("ufdl.teams.soft-delete-ends-memberships")
def test_soft_deleting_a_team_ends_its_memberships(w):
    c = w.client
    team, member = team_with_member(w, "softdel", "W")
    project = w.create_project("in-softdel", team["pk"])
    c.expect(c.delete(f"/v1/teams/{team['pk']}"), 204)
    read = c.get(f"/v1/teams/{team['pk']}")
    body = c.expect(read, 200)
    c.check(body.get("deletion_time") is not None and body.get("members") == [], read,
            "deletion_time set and members [] after the soft delete")
    mc = member.client()
    mc.expect(mc.get(f"/v1/teams/{team['pk']}"), 403, note="a former member loses access to the team")
    mc.expect(mc.get(f"/v1/projects/{project['pk']}"), 403, note="... and to its projects")
    read = c.get(f"/v1/projects/{project['pk']}")
    c.check(c.expect(read, 200).get("deletion_time") is None, read, "the team's projects stay active")


@rule("ufdl.teams.reinstate")
def test_reinstate_clears_deletion_time_without_bringing_members_back(w):
    c = w.client
    team, _ = team_with_member(w, "reinstate", "R")
    c.expect(c.delete(f"/v1/teams/{team['pk']}"), 204)
    response = c.delete(f"/v1/teams/{team['pk']}/reinstate")
    body = c.expect(response, 200)
    c.check(body.get("deletion_time") is None and body.get("members") == [], response,
            "deletion_time null, members [] (memberships stay deleted)", str(body))
    again = c.delete(f"/v1/teams/{team['pk']}/reinstate")
    c.check(c.expect(again, 200) == body, again, "reinstating an active team changes nothing")


@rule("ufdl.perm.team-reinstate-admin-only")
def test_only_admins_reinstate_a_team(ufdl_members):
    team = ufdl_members
    with every_case() as case:
        for level in ("A", "W"):
            with case(level):
                client = team.members[level].client()
                client.expect(client.delete(f"/v1/teams/{team.pk}/reinstate"), 403, note=f"a member with {level}")


@rule("ufdl.teams.reinstate-duplicate-name-400")
def test_reinstating_onto_a_taken_name_is_400(w):
    c = w.client
    old = team_of(w, "taken")
    c.expect(c.delete(f"/v1/teams/{old['pk']}"), 204)
    w.new_team("", exact_name=old["name"])
    response = c.delete(f"/v1/teams/{old['pk']}/reinstate")
    c.expect(response, 400, note="another active team has the name (the real server answers 500)")
    read = c.get(f"/v1/teams/{old['pk']}")
    c.check(c.expect(read, 200).get("deletion_time") is not None, read, "the team stays deleted")


@rule("ufdl.teams.hard-delete-no-500")
def test_hard_deleting_a_team_nothing_refers_to_answers_it_with_pk_null(w):
    c = w.client
    team = team_of(w, "hard")
    response = c.delete(f"/v1/teams/{team['pk']}/hard")
    body = c.expect(response, 200, note="the real server removes the team, then answers 500 (ValueError)")
    c.check(body.get("pk") is None and body.get("name") == team["name"], response,
            f"the team {team['name']!r} with pk null")
    c.expect(c.get(f"/v1/teams/{team['pk']}"), 404, note="gone after a hard delete")


@rule("ufdl.teams.hard-delete-referenced-400")
def test_a_team_with_a_project_cannot_be_hard_deleted(w):
    c = w.client
    team = team_of(w, "hard-ref")
    project = w.create_project("blocks", team["pk"])
    response = c.delete(f"/v1/teams/{team['pk']}/hard")
    c.expect(response, 400, note="a project refers to it (the real server answers 500 after soft-deleting it)")
    read = c.get(f"/v1/teams/{team['pk']}")
    c.expect(read, 200, note="not removed: a project refers to it")
    c.expect(c.delete(f"/v1/projects/{project['pk']}/hard"), 200, note="cleanup")


# -- users -----------------------------------------------------------------------------------------

@rule("ufdl.users.by-name")
def test_a_user_looks_itself_up_by_name(w):
    c = w.client
    alice, other = w.new_user("byname"), w.new_user("byname-other")
    ac = alice.client()
    with every_case() as case:
        with case("itself"):
            mine = ac.expect(ac.get(f"/v1/users/{alice.username}"), 200)
            ac.check(isinstance(mine, list) and [u.get("pk") for u in mine] == [alice.user_pk], ac.last,
                     f"[the user {alice.user_pk}]", str(mine))
        with case("someone else"):
            ac.expect(ac.get(f"/v1/users/{other.username}"), 403, note="only oneself by name")
        with case("as admin"):
            listed = c.expect(c.get(f"/v1/users/{other.username}"), 200)
            c.check([u.get("pk") for u in listed] == [other.user_pk], c.last, f"[the user {other.user_pk}]")
        with case("own pk"):
            ac.expect(ac.get(f"/v1/users/{alice.user_pk}"), 403, note="by pk only admins, even for oneself")


@rule("ufdl.users.update")
def test_admins_change_users_and_a_new_password_works_at_once(w):
    c = w.client
    user = w.new_user("update")
    response = c.patch(f"/v1/users/{user.user_pk}", json={"first_name": "Changed", "password": "pw-new-1234"})
    body = c.expect(response, 200)
    c.check(body.get("first_name") == "Changed", response, "first_name Changed")
    for password, status in (("pw-new-1234", 200), (user.password, 401)):
        response = c.post("/v1/auth/obtain", json={"username": user.username, "password": password}, auth=False)
        c.expect(response, status, note="the new password logs in at once, the old one no longer")


@rule("ufdl.users.deactivate")
def test_delete_deactivates_a_user(w):
    c = w.client
    user = w.new_user("deactivate")
    user.access()
    c.expect(c.delete(f"/v1/users/{user.user_pk}"), 204)
    read = c.get(f"/v1/users/{user.user_pk}")
    c.check(c.expect(read, 200).get("is_active") is False, read, "is_active false: users are never removed")
    uc = user.client()
    response = uc.post("/v1/projects/list")
    body = uc.expect(response, 401, note="the tokens of a deactivated user are refused")
    uc.check(body.get("code") == "user_inactive", response, 'code "user_inactive"')


@rule("ufdl.perm.users-admin-only")
def test_only_admins_change_or_deactivate_users(ufdl_members):
    team = ufdl_members
    with every_case() as case:
        for level in ("A", "W"):
            session = team.members[level]
            client = session.client()
            with case(f"PATCH itself as {level}"):
                client.expect(client.patch(f"/v1/users/{session.user_pk}", json={"first_name": "x"}), 403)
            with case(f"DELETE itself as {level}"):
                client.expect(client.delete(f"/v1/users/{session.user_pk}"), 403)
