package console

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // zones must resolve on hosts without a zoneinfo database
)

// messages are the console's words, per language. Every key exists in
// both; a test checks.
var messages = map[string]map[string]string{
	"en": {
		"people": "Affected people", "people_total": "People affected", "no_contact": "No contact channel",
		"special_care": "Special-care data", "financial_risk": "Financial damage risk", "matched_master": "In the master data",
		"proposals": "Merge proposals", "pii_files": "Files with personal data", "built_at": "Register built at",
		"by_category": "People per category and exposure", "category": "Category", "total": "Total",
		"by_exposure": "People per highest exposure", "exposure": "Exposure", "people_n": "People",
		"by_country": "People per country of residence", "country": "Country", "by_channel": "How each can be notified", "channel": "Channel",
		"people_list": "People (masked)", "export_masked": "Download masked", "export_revealed": "Download with values revealed",
		"format": "Format", "categories": "Categories", "flags": "Flags",
		"reveal": "Reveal", "confirm_reveal": "Show this person's raw values? The reveal and your reason are recorded in the audit log.",
		"revealed": "Revealed person", "revealed_note": "These values were revealed to you; the audit log records it with your reason. Do not copy them elsewhere.",
		"value": "Value", "sources": "Found in", "back_people": "Back to the affected people",
		"proposals_help": "Two records that may be the same person. Confirmed pairs merge at the next build of the register.",
		"record_a":       "Record", "record_b": "Near match", "key": "Key", "why_near": "Why", "decision": "Decision",
		"decision_confirm": "Same person", "decision_reject": "Different people",
		"subjects": "People", "parts": "Parts received", "incomplete": "incomplete", "set_exposure": "Set exposure", "set": "Set", "dashboard": "Dashboard",
		"cat_email": "E-mail", "cat_phone": "Phone", "cat_credit_card": "Credit card", "cat_my_number": "My Number",
		"cat_person_name": "Name", "cat_address": "Address", "cat_postal_code": "Postal code", "cat_date_of_birth": "Date of birth",
		"cat_bank_account": "Bank account", "cat_passport": "Passport", "cat_drivers_license": "Driver's licence",
		"exp_present": "present", "exp_accessed": "accessed", "exp_exfiltrated": "exfiltrated",
		"ch_email": "e-mail", "ch_letter": "letter", "ch_none": "none",
		"by_default": "default", "by_investigation": "from the investigation", "by_person": "set by a person",
		"title": "mamori console", "skip": "Skip to content", "nav": "Main",
		"incidents": "Incidents", "incident": "Incident", "hosts": "Hosts", "host": "Host", "fleet": "Fleet",
		"detections": "Detections", "audit": "Audit log", "rules": "Rules", "sweeps": "Sweeps",
		"login": "Log in", "logout": "Log out", "user": "User name", "password": "Password",
		"login_failed": "Wrong user name or password.", "login_limited": "Too many attempts; wait a few minutes.",
		"language": "Language", "zone": "Time zone", "apply": "Apply", "signed_in_as": "Signed in as",
		"id": "ID", "title_col": "Title", "severity": "Severity", "state": "State", "aware_at": "Aware at",
		"opened_by": "Opened by", "created": "Created", "updated": "Updated", "none": "None.",
		"history": "History", "time": "Time", "actor": "Actor", "event": "Event", "reason": "Reason", "target": "Target",
		"next_states": "Allowed next states", "counts": "Counts", "isolated_hosts": "Isolated hosts", "notes": "Notes",
		"name": "Name", "online": "online", "offline": "offline", "isolation": "Isolation", "monitoring": "Monitoring",
		"connection": "Connection", "last_seen": "Last seen", "os": "OS", "ips": "Addresses", "agent": "Agent version",
		"labels": "Labels", "bundle": "Rule bundle", "linked_by": "Linked by", "linked_at": "Linked at",
		"rule": "Rule", "path": "Path", "type": "Type", "source": "Source", "seen_at": "Seen at",
		"isolate": "Isolate", "release": "Release", "heighten": "Heighten monitoring", "normal": "Normal monitoring",
		"confirm": "Confirm", "cancel": "Cancel", "reason_help": "Why? This is recorded in the audit log.",
		"confirm_isolate":  "Isolate this host from the network (except the server)?",
		"confirm_release":  "Release this host from isolation?",
		"confirm_heighten": "Raise this host's monitoring to heightened?",
		"confirm_normal":   "Set this host's monitoring back to normal?",
		"next":             "Next page", "first": "First page", "more": "more",
		"index": "Index", "role": "Role", "action": "Action", "result": "Result",
		"checkpoint": "Latest checkpoint", "size": "Entries", "root": "Root hash", "signature": "Signature",
		"valid": "valid", "invalid": "INVALID", "chain": "Hash chain of the entries shown", "links": "links up",
		"broken": "BROKEN", "verify_hint": "For a full check of every entry run mamori audit verify.",
		"version": "Version", "hashes": "Hashes", "sha256": "SHA-256", "created_by": "Created by",
		"progress": "Progress", "findings": "Findings", "paths": "Paths", "expires": "Expires",
		"connected": "Connected agents", "ingested": "Findings ingested", "uptime": "Uptime (s)", "store": "Store",
		"forbidden": "Your role may not see this page.", "not_found": "Not found.", "error": "Error",
		"bad_csrf": "The form was stale or forged (CSRF token mismatch). Reload the page and try again.",
		"live":     "Updated live", "linked_hosts": "Linked hosts", "all_hosts": "all hosts",
		"no_bundle": "No rule bundle published yet.", "obligations": "Legal duties", "law": "Law", "duty": "Duty",
		"authority": "Authority", "due": "Due", "remaining": "Time left", "basis": "Basis", "drafts": "Drafts", "download": "Download",
		"timeline": "Timeline", "kind": "Kind", "level": "Level at least", "from": "From", "to": "To", "summary": "Summary",
		"raw": "Raw event", "technique": "Technique", "any": "any",
		"campaigns": "Notice campaigns", "recipients": "Recipients", "approve": "Approve", "approved": "Approved",
		"test_sent": "Test notice sent", "confirm_approve": "Approve this campaign? Its templates and recipients are frozen.", "host_detections": "Latest detections",
		"letters": "Letters", "letters_pdf": "Download the letters to print (PDF)", "letters_posted": "Mark the printed letters posted",
	},
	"ja": {
		"people": "影響を受けた本人", "people_total": "本人の数", "no_contact": "連絡手段なし",
		"special_care": "要配慮個人情報", "financial_risk": "財産的被害のおそれ", "matched_master": "顧客マスタと一致",
		"proposals": "名寄せ候補", "pii_files": "個人データを含むファイル", "built_at": "台帳の作成日時",
		"by_category": "項目別・漏えい段階別の人数", "category": "項目", "total": "合計",
		"by_exposure": "最も進んだ漏えい段階別の人数", "exposure": "漏えい段階", "people_n": "人数",
		"by_country": "居住国別の人数", "country": "国", "by_channel": "通知の手段", "channel": "手段",
		"people_list": "本人一覧（マスク済み）", "export_masked": "マスク済みでダウンロード", "export_revealed": "実値でダウンロード",
		"format": "形式", "categories": "項目", "flags": "注意",
		"reveal": "開示", "confirm_reveal": "この本人の実際の値を表示しますか？開示と理由は監査ログに記録されます。",
		"revealed": "開示した本人", "revealed_note": "この値はあなたに開示され、理由とともに監査ログに記録されました。他所へ複製しないでください。",
		"value": "値", "sources": "検出場所", "back_people": "影響を受けた本人へ戻る",
		"proposals_help": "同一人物かもしれない二つのレコードです。同一と確認した組は次回の台帳作成で統合されます。",
		"record_a":       "レコード", "record_b": "近いレコード", "key": "キー", "why_near": "理由", "decision": "判断",
		"decision_confirm": "同一人物", "decision_reject": "別人",
		"subjects": "人数", "parts": "受信済みの分割", "incomplete": "未完了", "set_exposure": "漏えい段階の設定", "set": "設定", "dashboard": "概要",
		"cat_email": "メールアドレス", "cat_phone": "電話番号", "cat_credit_card": "クレジットカード番号", "cat_my_number": "マイナンバー",
		"cat_person_name": "氏名", "cat_address": "住所", "cat_postal_code": "郵便番号", "cat_date_of_birth": "生年月日",
		"cat_bank_account": "銀行口座", "cat_passport": "旅券番号", "cat_drivers_license": "運転免許証番号",
		"exp_present": "保存のみ", "exp_accessed": "アクセスあり", "exp_exfiltrated": "持ち出し",
		"ch_email": "メール", "ch_letter": "郵送", "ch_none": "なし",
		"by_default": "既定", "by_investigation": "調査結果から", "by_person": "担当者が設定",
		"title": "mamori コンソール", "skip": "本文へ移動", "nav": "メイン",
		"incidents": "インシデント", "incident": "インシデント", "hosts": "ホスト", "host": "ホスト", "fleet": "フリート",
		"detections": "検知", "audit": "監査ログ", "rules": "ルール", "sweeps": "スイープ",
		"login": "ログイン", "logout": "ログアウト", "user": "ユーザー名", "password": "パスワード",
		"login_failed": "ユーザー名またはパスワードが違います。", "login_limited": "試行回数が多すぎます。数分後に再試行してください。",
		"language": "言語", "zone": "タイムゾーン", "apply": "適用", "signed_in_as": "ログイン中",
		"id": "ID", "title_col": "件名", "severity": "重大度", "state": "状態", "aware_at": "認知日時",
		"opened_by": "起票者", "created": "作成", "updated": "更新", "none": "なし。",
		"history": "履歴", "time": "日時", "actor": "実行者", "event": "事象", "reason": "理由", "target": "対象",
		"next_states": "次に移れる状態", "counts": "件数", "isolated_hosts": "隔離中のホスト", "notes": "メモ",
		"name": "名前", "online": "オンライン", "offline": "オフライン", "isolation": "隔離", "monitoring": "監視",
		"connection": "接続", "last_seen": "最終確認", "os": "OS", "ips": "アドレス", "agent": "エージェント版",
		"labels": "ラベル", "bundle": "ルールバンドル", "linked_by": "紐付け者", "linked_at": "紐付け日時",
		"rule": "ルール", "path": "パス", "type": "種別", "source": "検知元", "seen_at": "検知日時",
		"isolate": "隔離", "release": "隔離解除", "heighten": "監視強化", "normal": "通常監視",
		"confirm": "実行", "cancel": "キャンセル", "reason_help": "理由（監査ログに記録されます）",
		"confirm_isolate":  "このホストをネットワークから隔離しますか（サーバーとの通信を除く）？",
		"confirm_release":  "このホストの隔離を解除しますか？",
		"confirm_heighten": "このホストの監視レベルを強化しますか？",
		"confirm_normal":   "このホストの監視レベルを通常に戻しますか？",
		"next":             "次のページ", "first": "最初のページ", "more": "件以上",
		"index": "番号", "role": "ロール", "action": "操作", "result": "結果",
		"checkpoint": "最新チェックポイント", "size": "件数", "root": "ルートハッシュ", "signature": "署名",
		"valid": "有効", "invalid": "無効", "chain": "表示中のエントリのハッシュチェーン", "links": "連続",
		"broken": "断絶", "verify_hint": "全件の検証は mamori audit verify で行えます。",
		"version": "版", "hashes": "ハッシュ", "sha256": "SHA-256", "created_by": "作成者",
		"progress": "進捗", "findings": "検出", "paths": "パス", "expires": "期限",
		"connected": "接続中のエージェント", "ingested": "受信した検出", "uptime": "稼働時間（秒）", "store": "ストア",
		"forbidden": "このページを見る権限がありません。", "not_found": "見つかりません。", "error": "エラー",
		"bad_csrf": "フォームが古いか偽造されています（CSRF トークン不一致）。再読み込みしてやり直してください。",
		"live":     "自動更新", "linked_hosts": "関連ホスト", "all_hosts": "全ホスト",
		"no_bundle": "ルールバンドルはまだ公開されていません。", "obligations": "法的義務", "law": "法令", "duty": "義務",
		"authority": "提出先", "due": "期限", "remaining": "残り時間", "basis": "根拠", "drafts": "報告書案", "download": "ダウンロード",
		"timeline": "タイムライン", "kind": "種類", "level": "レベル（以上）", "from": "開始", "to": "終了", "summary": "概要",
		"raw": "元イベント", "technique": "手法", "any": "すべて",
		"campaigns": "通知キャンペーン", "recipients": "宛先数", "approve": "承認", "approved": "承認",
		"test_sent": "テスト送信", "confirm_approve": "このキャンペーンを承認しますか？テンプレートと宛先が確定されます。", "host_detections": "最近の検知",
		"letters": "郵送", "letters_pdf": "印刷用の通知書をダウンロード（PDF）", "letters_posted": "印刷した通知書を投函済みにする",
	},
}

// zones are the time zones the switch offers; the first is the default.
var zones = []string{"Asia/Tokyo", "UTC", "America/New_York", "Europe/London", "Europe/Berlin", "Asia/Singapore"}

// language picks the page language: the lang cookie set by the switch,
// else the first of Accept-Language's tags we have, else English.
func language(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil {
		if _, ok := messages[c.Value]; ok {
			return c.Value
		}
	}
	best, bestQ := "en", -1.0
	for i, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		q -= float64(i) * 1e-6 // earlier tags win ties
		base, _, _ := strings.Cut(strings.ToLower(tag), "-")
		if _, ok := messages[base]; ok && q > bestQ && q > 0 {
			best, bestQ = base, q
		}
	}
	return best
}

// zone is the user's time zone: the zone cookie when it names one we offer.
func zone(r *http.Request) *time.Location {
	name := zones[0]
	if c, err := r.Cookie("zone"); err == nil {
		for _, z := range zones {
			if z == c.Value {
				name = z
			}
		}
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}
