package scope

// kanjiNew maps old (旧字体) and variant kanji common in names and place
// names to the forms the Joyo list and the koseki practice use today, so
// that 髙橋 and 高橋, 渡邊 and 渡辺, 齋藤 and 斎藤 agree. 斎 and 斉 stay
// apart: they are different surnames.
var kanjiNew = map[rune]rune{
	'髙': '高', '﨑': '崎', '嵜': '崎', '邊': '辺', '邉': '辺', '澤': '沢', '濱': '浜', '廣': '広', '國': '国',
	'櫻': '桜', '齋': '斎', '齊': '斉', '嶋': '島', '嶌': '島', '惠': '恵', '眞': '真', '德': '徳', '龍': '竜',
	'藏': '蔵', '實': '実', '壽': '寿', '傳': '伝', '榮': '栄', '與': '与', '應': '応', '圓': '円', '戶': '戸',
	'黑': '黒', '淺': '浅', '萬': '万', '學': '学', '鐵': '鉄', '縣': '県', '驛': '駅', '區': '区', '曾': '曽',
	'條': '条', '瀨': '瀬', '賴': '頼', '禮': '礼', '靜': '静', '團': '団', '竝': '並', '彌': '弥', '寬': '寛',
	'晉': '晋', '鄕': '郷', '絲': '糸', '劍': '剣', '當': '当', '舊': '旧', '來': '来', '兒': '児', '辯': '弁',
	'瀧': '滝', '檜': '桧', '槇': '槙', '桒': '桑', '增': '増', '會': '会', '寳': '宝', '寶': '宝',
	'豐': '豊', '爲': '為', '聰': '聡', '豫': '予', '氣': '気', '晝': '昼', '佛': '仏', '醫': '医',
	'勞': '労', '靑': '青', '淸': '清', '巖': '巌', '峯': '峰', '冨': '富', '鷗': '鴎',
}

// oldKanji marks kanjiNew's keys in the Basic Multilingual Plane, so that
// the names and addresses of millions of people look up the map only for
// the few letters it holds.
var oldKanji = func() *[1 << 16 / 64]uint64 {
	var b [1 << 16 / 64]uint64
	for r := range kanjiNew {
		if r < 1<<16 {
			b[r/64] |= 1 << (r % 64)
		}
	}
	return &b
}()

// newKanji returns the new form of an old kanji, or r.
func newKanji(r rune) rune {
	if r < 1<<16 && oldKanji[r/64]&(1<<(r%64)) == 0 {
		return r
	}
	if n, ok := kanjiNew[r]; ok {
		return n
	}
	return r
}
