import "pe"

rule text_and_hex : tag1 tag2 {
    meta:
        author = "mamori"
        score = 70
        active = true
    strings:
        $t = "needle" nocase
        $h = { 6E 65 ?? 64 }
        $p = "private" private
    condition:
        #t == 2 and $h and $p
}

private rule helper {
    strings:
        $x = "helper"
    condition:
        $x
}

rule uses_helper {
    condition:
        helper and filesize > 10
}

rule not_pe {
    condition:
        not pe.is_pe
}
