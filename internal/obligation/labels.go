package obligation

// Labels for drafts: categories and causes in Japanese and English.

var categoryJA = map[string]string{
	"person_name": "氏名", "email": "メールアドレス", "username": "ユーザーID", "phone": "電話番号",
	"address": "住所", "postal_code": "郵便番号", "date_of_birth": "生年月日", "credit_card": "クレジットカード番号",
	"bank_account": "銀行口座情報", "password": "パスワード", "security_qa": "秘密の質問と答え",
	"my_number": "個人番号（マイナンバー）", "passport": "旅券番号", "drivers_license": "運転免許証番号",
	"national_id": "国民識別番号", "ssn": "社会保障番号（米国）", "tax_id": "納税者番号", "military_id": "軍人身分証番号",
	"health": "病歴・診療情報等", "health_insurance": "健康保険情報", "disability": "障害に関する情報",
	"genetic": "遺伝情報", "biometric": "生体情報", "criminal_record": "犯罪の経歴", "crime_victim": "犯罪被害の事実",
	"gender": "性別", "ip_address": "IPアドレス", "account_id": "会員ID・顧客番号", "purchase_history": "購入履歴",
	"card_security_code": "セキュリティコード", "location": "位置情報",
	"race_creed": "人種・信条", "race": "人種", "religion": "信条（宗教）", "political_opinion": "信条（政治的意見）",
	"trade_union": "労働組合への加入", "sex_life": "性生活・性的指向", "social_status": "社会的身分",
}

var categoryEN = map[string]string{
	"person_name": "name", "email": "e-mail address", "username": "username", "phone": "telephone number",
	"address": "postal address", "postal_code": "postal code", "date_of_birth": "date of birth",
	"credit_card": "credit card number", "bank_account": "bank account details", "password": "password",
	"security_qa": "security question and answer", "my_number": "Japanese Individual Number (My Number)",
	"passport": "passport number", "drivers_license": "driving licence number", "national_id": "national identity number",
	"ssn": "US Social Security number", "tax_id": "taxpayer identification number", "military_id": "military ID number",
	"health": "health and medical information", "health_insurance": "health insurance information",
	"disability": "disability information", "genetic": "genetic data", "biometric": "biometric data",
	"criminal_record": "criminal records", "crime_victim": "information that the person was a victim of crime",
	"gender": "gender", "ip_address": "IP address", "account_id": "customer or account number",
	"purchase_history": "purchase history", "card_security_code": "card security code", "location": "location data",
	"race_creed": "racial origin and beliefs", "race": "racial or ethnic origin", "religion": "religious beliefs",
	"political_opinion": "political opinions", "trade_union": "trade-union membership", "sex_life": "sex life or sexual orientation",
	"social_status": "social status",
}

var causeJA = map[string]string{
	"malware": "マルウェア感染", "unauthorized_access": "第三者による不正アクセス", "insider": "従業者等による不正な持ち出し",
	"misdelivery": "誤送付・誤送信", "loss_or_theft": "紛失又は盗難", "misconfiguration": "設定の誤り", "other": "その他",
}

var causeEN = map[string]string{
	"malware": "a malware infection", "unauthorized_access": "unauthorised access by a third party",
	"insider": "data taken by an insider", "misdelivery": "misdelivery", "loss_or_theft": "loss or theft",
	"misconfiguration": "a misconfiguration", "other": "another cause",
}
