"""UFDL scenarios: what each membership level (R, X, W, A), a non-member and the admin may do.

Needs users and a team of its own, so it runs against the in-process mock, or against a live
server with --allow-create-accounts (users cannot be deleted afterwards)."""

from __future__ import annotations

import pytest

from conformance.reporting import rule
from conformance.ufdl import record_project


@pytest.fixture(scope="module")
def team(ufdl_members):
    return ufdl_members


def project(team, label="p"):
    return team.w.create_project(label, team.pk)


@rule("ufdl.perm.read-any-member")
def test_every_member_may_read_a_non_member_may_not(team):
    p = project(team)
    for level, session in team.members.items():
        c = session.client()
        c.expect(c.get(f"/v1/projects/{p['pk']}"), 200, note=f"a member with {level} may read")
    c = team.outsider.client()
    c.expect(c.get(f"/v1/projects/{p['pk']}"), 403, note="a non-member may not read")


@rule("ufdl.perm.list-scoped")
def test_list_shows_only_projects_of_own_teams(team):
    w = team.w
    tag = w.tag()
    mine = w.create_project("", team.pk, exact_name=tag + "scoped")
    for level, session in team.members.items():
        response, listed = w.list_tagged(tag, client=session.client())
        w.client.check([p["pk"] for p in listed] == [mine["pk"]], response, f"[{mine['pk']}] for a member with {level}")
    response, listed = w.list_tagged(tag, client=team.outsider.client())
    w.client.check(listed == [], response, "[] for a non-member", f"{[p['pk'] for p in listed]}")


@rule("ufdl.perm.create-needs-write")
def test_create_needs_w_or_a(team):
    w = team.w
    for level, session in [*team.members.items(), ("none", team.outsider)]:
        c = session.client()
        response = c.post("/v1/projects/create", json={"name": w.name(f"by-{level}"), "team": team.pk})
        if response.status_code == 201:
            record_project(response.json())
        c.expect(response, 201 if level in ("W", "A") else 403, note=f"create as a member with {level}")


@rule("ufdl.perm.update-needs-write")
def test_update_needs_w_or_a(team):
    w = team.w
    for level, session in [*team.members.items(), ("none", team.outsider)]:
        p = project(team, f"upd-{level}")
        c = session.client()
        new = w.name(f"upd-{level}-new")
        c.expect(c.patch(f"/v1/projects/{p['pk']}", json={"name": new}), 200 if level in ("W", "A") else 403,
                 note=f"PATCH as a member with {level}")
        c.expect(c.put(f"/v1/projects/{p['pk']}", json={"name": new, "team": team.pk}),
                 200 if level in ("W", "A") else 403, note=f"PUT as a member with {level}")


@rule("ufdl.perm.delete-needs-write")
def test_soft_delete_needs_w_or_a(team):
    for level, session in [*team.members.items(), ("none", team.outsider)]:
        p = project(team, f"del-{level}")
        c = session.client()
        c.expect(c.delete(f"/v1/projects/{p['pk']}"), 204 if level in ("W", "A") else 403,
                 note=f"DELETE as a member with {level}")


@rule("ufdl.perm.hard-delete-admin-only")
def test_hard_delete_is_admin_only(team):
    p = project(team, "hard")
    for level, session in team.members.items():
        c = session.client()
        c.expect(c.delete(f"/v1/projects/{p['pk']}/hard"), 403, note=f"hard delete as a member with {level}")
    c = team.w.client
    c.expect(c.delete(f"/v1/projects/{p['pk']}/hard"), 200, note="hard delete as admin")


@rule("ufdl.perm.reinstate-admin-only")
def test_reinstate_is_admin_only(team):
    p = project(team, "reinst")
    team.w.client.expect(team.w.client.delete(f"/v1/projects/{p['pk']}"), 204)
    for level, session in team.members.items():
        c = session.client()
        c.expect(c.delete(f"/v1/projects/{p['pk']}/reinstate"), 403, note=f"reinstate as a member with {level}")
    team.w.client.expect(team.w.client.delete(f"/v1/projects/{p['pk']}/reinstate"), 200, note="reinstate as admin")


@rule("ufdl.perm.not-found-before-forbidden")
def test_missing_pk_is_404_even_without_rights(team):
    p = project(team, "ghost")
    team.w.client.expect(team.w.client.delete(f"/v1/projects/{p['pk']}/hard"), 200)
    c = team.outsider.client()
    for response in (c.get(f"/v1/projects/{p['pk']}"), c.delete(f"/v1/projects/{p['pk']}")):
        c.expect(response, 404, note="the pk lookup comes before the permission check")


@rule("ufdl.perm.membership-removal-revokes")
def test_removing_a_membership_removes_access(team):
    w = team.w
    reader = w.new_user("leaver")
    w.add_member(team.pk, reader, "W")
    p = project(team, "revoke")
    c = reader.client()
    c.expect(c.get(f"/v1/projects/{p['pk']}"), 200, note="while a member")
    w.client.expect(w.client.patch(f"/v1/teams/{team.pk}/memberships",
                                   json={"username": reader.username, "method": "remove"}), 200)
    c.expect(c.get(f"/v1/projects/{p['pk']}"), 403, note="after the membership was removed")
    c.expect(c.patch(f"/v1/projects/{p['pk']}", json={"name": w.name("revoked")}), 403, note="after removal")


@rule("ufdl.perm.level-update-applies")
def test_lowering_a_level_applies_at_once(team):
    w = team.w
    user = w.new_user("demoted")
    w.add_member(team.pk, user, "W")
    p = project(team, "demote")
    w.client.expect(w.client.patch(f"/v1/teams/{team.pk}/memberships",
                                   json={"username": user.username, "method": "update", "permissions": "R"}), 200)
    c = user.client()
    c.expect(c.patch(f"/v1/projects/{p['pk']}", json={"name": w.name("demoted")}), 403, note="W lowered to R")
    c.expect(c.get(f"/v1/projects/{p['pk']}"), 200, note="R may still read")


@rule("ufdl.perm.team-admin-manages-members")
def test_only_team_admins_manage_memberships(team):
    w = team.w
    newcomer = w.new_user("newcomer")
    for level in ("R", "X", "W"):
        c = team.members[level].client()
        c.expect(c.patch(f"/v1/teams/{team.pk}/memberships",
                         json={"username": newcomer.username, "method": "add", "permissions": "R"}), 403,
                 note=f"membership change by a member with {level}")
    c = team.members["A"].client()
    c.expect(c.patch(f"/v1/teams/{team.pk}/memberships",
                     json={"username": newcomer.username, "method": "add", "permissions": "R"}), 200,
             note="membership change by a team admin (A)")


@rule("ufdl.perm.accounts-admin-only")
def test_users_and_teams_are_created_by_admins_only(team):
    w = team.w
    c = team.members["A"].client()
    c.expect(c.post("/v1/users/create", json={"username": w.name("nope"), "password": "pw-nope-123"}), 403,
             note="a team admin is not a site admin")
    c.expect(c.post("/v1/teams/create", json={"name": w.name("nope-team")}), 403, note="a team admin is not a site admin")
    c.expect(c.post("/v1/users/list"), 403, note="users/list is admin-only")


@rule("ufdl.perm.move-needs-only-current-team")
def test_moving_a_project_needs_write_on_the_current_team_only(team):
    w = team.w
    other = w.new_team("perm-other")
    writer = team.members["W"]
    w.add_member(other, writer, "R")
    p = project(team, "move")
    c = writer.client()
    moved = c.expect(c.patch(f"/v1/projects/{p['pk']}", json={"team": other}), 200, note="W on the current team")
    c.check(moved["team"] == other, None, f"team {other} after the move", str(moved["team"]))
    c.expect(c.patch(f"/v1/projects/{p['pk']}", json={"name": w.name("moved")}), 403,
             note="after the move only R applies (in the new team)")


@rule("ufdl.membership.add-existing-400")
def test_adding_an_active_member_again_is_400(team):
    w = team.w
    member = team.members["W"]
    response = w.client.patch(f"/v1/teams/{team.pk}/memberships",
                              json={"username": member.username, "method": "add", "permissions": "W"})
    w.client.expect(response, 400, note="already an active member (the real server answers 500)")
    read = w.client.get(f"/v1/teams/{team.pk}")
    names = [m.get("username") for m in w.client.expect(read, 200).get("members", [])]
    w.client.check(names.count(member.username) == 1, read, f"{member.username} listed once among the members",
                   str(names))
