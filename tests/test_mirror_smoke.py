from sqlalchemy import text


def test_seeded_mirror_has_web_events(billig_session):
    count = billig_session.execute(text("SELECT count(*) FROM billig.event_lim_web")).scalar_one()
    assert count > 0
