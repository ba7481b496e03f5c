"""The report's opening paragraph, in Korean: what was promised, what was kept, what was owed, and
whether the record agrees with the replay. Worded from ``outcome.findings``, nothing else, so the
JSON's structured fields and the sentence always say the same.

A charter target missed is said to be a warning, not a breach of the law (Dangjin D4 is internal).
"""
from __future__ import annotations

from typing import Any

from services.audit.wording import josa, period_phrase


def _promised(f: dict[str, Any], r: dict[str, Any]) -> str:
    s, t = r["statutory"], r["target"]
    adjusted = [f"정지 {r['pauses']}회" if r["pauses"] else "", f"연장 {len(r['extensions'])}회" if r["extensions"] else ""]
    adjusted_text = f"{', '.join(a for a in adjusted if a)}를 반영하여 " if any(adjusted) else ""
    kind = f["petition_type_ko"] or "민원"
    text = (f"이 민원은 {r['received_at_ko']}에 접수된 {josa(kind, '으로', '로')}, 민원처리법에 따라 처리기간 "
            f"{period_phrase(s['period'], s['counting'])}이 적용되었")
    if s["due_at"] is None:  # an open pause: the deadline is not fixed until the clock resumes (said next)
        return text + "습니다."
    text += f"고 법정 처리기한은 {adjusted_text}{s['due_at_ko']}까지였"
    c = f["charter"]
    if t is not None and c is not None and t["due_at"] is not None:
        text += (f"으며, {c['municipality']} 행정서비스헌장({c['version']}판)의 약속({t['promise_id']}: 법정기간보다 "
                 f"단축)에 따른 헌장 목표기한은 {t['due_at_ko']}까지였")
    return text + "습니다."


def _who(r: dict[str, Any]) -> str:
    o = r["official"]
    return f"담당 공무원 {o['department']} {josa(o['name'], '이', '가')}" if o else "이 민원은"


def _kept(r: dict[str, Any], as_of_ko: str) -> str:
    s, t = r["statutory_result"], r["target_result"]
    missed_target = t is not None and t["kept"] is False
    if r["completed_at"] is None:
        target = "(헌장 목표기한은 이미 넘겼으나, 이는 내부 경고이며 법정 기한 위반이 아닙니다)" if missed_target else ""
        if r.get("paused"):
            return (f"{as_of_ko} 현재 {josa(r['paused'], '으로', '로')} 처리기간이 정지되어 있어 법정 처리기한은 아직 "
                    f"정해지지 않았으며, 남은 기간은 {r['remaining_ko'] or '-'}입니다{target}.")
        if s["kept"] is False:
            return (f"{as_of_ko} 현재 처리가 끝나지 않았고 법정 처리기한을 근무시간 기준 {s['late_ko']} 넘겼습니다"
                    "(법정 처리기한 위반).")
        return f"{as_of_ko} 현재 처리 중이며 법정 처리기한까지 근무시간 기준 {s['early_ko']} 남았습니다{target}."
    done = f"{_who(r)} {r['completed_at_ko']}에 처리를 마쳐"
    if s["kept"] is False:
        return (f"{_who(r)} {r['completed_at_ko']}에 처리를 마쳤으나 법정 처리기한을 근무시간 기준 {s['late_ko']} "
                "넘겼습니다(법정 처리기한 위반).")
    if missed_target:
        return (f"{done} 법정 처리기한은 지켰으나 헌장 목표기한은 근무시간 기준 {t['late_ko']} 넘겼습니다"  # type: ignore[index]
                "(헌장 목표 미달: 내부 경고이며 법정 기한 위반이 아닙니다).")
    if t is not None:
        return f"{done} 헌장 목표기한과 법정 처리기한을 모두 지켰습니다."
    return f"{done} 법정 처리기한을 지켰습니다."


def _objection(r: dict[str, Any], as_of_ko: str) -> str:
    s = r["statutory"]
    return (f"이의신청({r['received_at_ko']})에 따른 재검토는 처리기간 {period_phrase(s['period'], s['counting'])}, "
            f"법정 처리기한 {s['due_at_ko']}까지였으며, "
            + _kept(r, as_of_ko))


def _others(f: dict[str, Any]) -> str:
    missed = [o["label"] for o in f["obligations"] if o["status"] == "breached" and o["kind"] != "statutory_deadline"]
    return f"이 밖에 {', '.join(missed)} 기한을 지키지 않았습니다." if missed else ""


def _owed(owed: dict[str, Any]) -> str:
    items = []
    for v in owed["vouchers"]:
        what = f"{v['cause_ko']}에 따른 {v['voucher_kind_ko']} {v['amount_ko']}"
        if v["status"] == "cancelled":
            items.append(f"{what}(취소됨, 사유: {v.get('cancel_reason', '-')})")
        elif v["status"] in ("issued", "delivered"):
            items.append(f"{what}({v['status_ko']})")
        else:
            items.append(f"{what}({v['status_ko']}, 아직 지급 전)")
    items += [f"{a['cause_ko']}에 대한 사과({'통지함' if a['told'] else '사과 통지 기록 없음'})" for a in owed["apologies"]]
    items += [f"공무원 {r['official_id']} 재교육" for r in owed["retraining"]]
    items += [f"공무원 {r['official_id']} 인사조치 회부({r['strikes']}회 누적)" for r in owed["personnel_referrals"]]
    if not items:
        return "헌장에 따른 보상이나 시정 조치의 사유는 기록되지 않았습니다."
    paid = f" 지급된 보상은 모두 {owed['paid_won']:,}원입니다." if owed["vouchers"] else ""
    return f"헌장에 따라 기록된 보상·시정 조치는 {'; '.join(items)}입니다.{paid}"


def _record(record: dict[str, Any]) -> str:
    if record["undecided"]:
        return (f"이 민원은 로그의 기록으로 다시 계산할 수 없었으므로(사유: {record['undecided']}), 위 내용은 기록된 그대로이며 "
                "검증되지 않았습니다.")
    if record["differences"]:
        return (f"다만 기록과 로그에서 다시 계산한 결과 사이에 {record['differences']}건의 차이가 있어, 해당 결정은 기록을 그대로 "
                "옮긴 것이며 아래 '차이' 표에서 확인해야 합니다.")
    if not record["decisions"]:
        return "다시 계산할 결정이 아직 기록되지 않았습니다."
    return f"기록된 결정 {record['decisions']}건은 모두 로그에서 다시 계산한 결과와 일치합니다."


def conclusion(f: dict[str, Any]) -> str:
    """One paragraph; an electronic petition not yet formally received has no deadline yet."""
    rounds = f["rounds"]
    parts = []
    if not rounds and f["status"] == "filed":
        parts.append("이 민원은 전자적으로 제출되어 정식 접수(제출 후 8 근무시간 이내) 전이므로 처리기한이 아직 시작되지 "
                     "않았습니다.")
    elif not rounds:
        parts.append("이 민원의 처리기한은 기록으로 계산할 수 없습니다.")
    else:
        as_of = f["as_of_ko"] if f["as_of_requested"] else f"로그의 마지막 기록 시각({f['as_of_ko']})"
        parts += [_promised(f, rounds[0]), _kept(rounds[0], as_of)]
        parts += [_objection(r, as_of) for r in rounds[1:]]
    parts += [_others(f), _owed(f["owed"]), _record(f["record"])]
    return " ".join(p for p in parts if p)
