//! Word pools for the scenario: company and people names, ticket subjects and
//! conversation snippets in several languages.
//!
//! The cockpit must cope with real desks, where inquiries arrive in whatever
//! language the customer writes, so the demo queue is deliberately mixed.

/// A customer's working language, which drives its tickets' language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Ja,
    De,
    Es,
    Fr,
}

impl Lang {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ja => "ja",
            Self::De => "de",
            Self::Es => "es",
            Self::Fr => "fr",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::En => 0,
            Self::Ja => 1,
            Self::De => 2,
            Self::Es => 3,
            Self::Fr => 4,
        }
    }

    /// Hours east of UTC for the customer's office (drives the daily usage curve).
    pub(crate) fn utc_offset_hours(self) -> f64 {
        match self {
            Self::En => -5.0,
            Self::Ja => 9.0,
            Self::De | Self::Fr => 1.0,
            Self::Es => 1.0,
        }
    }
}

/// Product feature areas; the ticket tag is `feature_<area>`.
pub(crate) const FEATURES: [&str; 10] = [
    "api",
    "billing",
    "sso",
    "exports",
    "dashboards",
    "webhooks",
    "notifications",
    "search",
    "integrations",
    "permissions",
];

/// Relative frequency of each feature area in the queue.
pub(crate) const FEATURE_WEIGHTS: [u32; 10] = [15, 12, 10, 12, 12, 9, 8, 8, 8, 6];

/// The index of the `api` area in [`FEATURES`].
pub(crate) const FEATURE_API: usize = 0;

/// How each language names a feature area in running text.
const FEATURE_NAMES: [[&str; 10]; 5] = [
    [
        "the API",
        "billing",
        "SSO login",
        "CSV exports",
        "dashboards",
        "webhooks",
        "email notifications",
        "search",
        "the Salesforce integration",
        "role permissions",
    ],
    [
        "API",
        "請求書",
        "SSOログイン",
        "CSVエクスポート",
        "ダッシュボード",
        "Webhook",
        "メール通知",
        "検索",
        "Salesforce連携",
        "権限設定",
    ],
    [
        "die API",
        "die Abrechnung",
        "der SSO-Login",
        "der CSV-Export",
        "die Dashboards",
        "die Webhooks",
        "die E-Mail-Benachrichtigungen",
        "die Suche",
        "die Salesforce-Integration",
        "die Rollenrechte",
    ],
    [
        "la API",
        "la facturación",
        "el inicio de sesión SSO",
        "la exportación CSV",
        "los paneles",
        "los webhooks",
        "las notificaciones por correo",
        "la búsqueda",
        "la integración con Salesforce",
        "los permisos de rol",
    ],
    [
        "l'API",
        "la facturation",
        "la connexion SSO",
        "l'export CSV",
        "les tableaux de bord",
        "les webhooks",
        "les notifications e-mail",
        "la recherche",
        "l'intégration Salesforce",
        "les droits des rôles",
    ],
];

pub(crate) fn feature_name(lang: Lang, feature: usize) -> &'static str {
    FEATURE_NAMES[lang.index()][feature % FEATURES.len()]
}

/// Subject templates per language: problems first, then questions
/// (`QUESTION_SUBJECTS_FROM` marks where the questions start).
const SUBJECTS: [(&[&str], usize); 5] = [
    (
        &[
            "{F} not working since this morning",
            "{F}: intermittent timeouts",
            "Unexpected behaviour in {f} after the last release",
            "Cannot access {f} — permission denied",
            "{F} is very slow for large workspaces",
            "Urgent: {f} blocking our go-live",
            "Wrong numbers shown in {f}",
            "Question about {f} limits",
            "How do we configure {f} for a second team?",
            "Feature request: audit log for {f}",
        ],
        7,
    ),
    (
        &[
            "{f}が動作しません",
            "{f}でエラーが発生します",
            "{f}の表示が遅いです",
            "至急：{f}が利用できません",
            "{f}のアップデート後に不具合があります",
            "{f}の設定方法について",
            "{f}の仕様について質問です",
        ],
        5,
    ),
    (
        &[
            "{F} funktioniert nicht mehr",
            "Fehlermeldung: {f}",
            "{F} sehr langsam seit dem Update",
            "Dringend: {f} blockiert unseren Rollout",
            "Frage zur Konfiguration: {f}",
        ],
        4,
    ),
    (
        &[
            "{F} no funciona correctamente",
            "Error al usar {f}",
            "{F} va muy lento desde la actualización",
            "Consulta sobre {f}",
        ],
        3,
    ),
    (
        &[
            "Problème avec {f} depuis ce matin",
            "{F} : erreur intermittente",
            "{F} très lent depuis la mise à jour",
            "Question sur la configuration : {f}",
        ],
        3,
    ),
];

/// Subject templates of problem reports (`question = false`) or questions.
pub(crate) fn subjects(lang: Lang, question: bool) -> &'static [&'static str] {
    let (all, split) = SUBJECTS[lang.index()];
    if question {
        &all[split..]
    } else {
        &all[..split]
    }
}

/// Descriptions per language, paired with the subjects: (problems, questions).
const DESCRIPTIONS: [(&[&str], &[&str]); 5] = [
    (
        &[
            "Hi team,\n\nSince this morning {f} is not behaving as expected for several of our users. We see it in production; nothing changed on our side as far as we know.\n\nCould you take a look? Happy to share more details.\n\nThanks,\n{name}",
            "Hi,\n\nOur admins cannot get {f} to work after the latest release. Steps: open the settings page, change the configuration, save. The change is not applied and no error is shown.\n\nRegards,\n{name}",
        ],
        &[
            "Hello,\n\nWe plan to roll out {f} to more teams next month and have a few questions about limits and best practices. Is there documentation you can point us to?\n\nBest,\n{name}",
        ],
    ),
    (
        &[
            "お世話になっております。{company}の{name}です。\n\n本日朝から{f}が正常に動作しておりません。複数のユーザーで同じ事象が発生しています。\n\nお手数ですが、ご確認のほどよろしくお願いいたします。",
        ],
        &[
            "いつもお世話になっております。\n\n{f}の設定方法について確認させてください。社内展開を予定しており、推奨される構成を教えていただけますと幸いです。\n\nよろしくお願いいたします。\n{name}",
        ],
    ),
    (
        &[
            "Hallo zusammen,\n\nseit heute Morgen funktioniert {f} bei mehreren unserer Nutzer nicht wie erwartet. Auf unserer Seite wurde nichts geändert.\n\nKönnen Sie sich das bitte ansehen?\n\nViele Grüße\n{name}",
        ],
        &[
            "Guten Tag,\n\nwir möchten {f} für weitere Teams einführen und haben Fragen zu Limits und Konfiguration.\n\nMit freundlichen Grüßen\n{name}",
        ],
    ),
    (
        &[
            "Hola,\n\ndesde esta mañana {f} no funciona correctamente para varios usuarios. No hemos cambiado nada por nuestra parte.\n\n¿Podrían revisarlo?\n\nSaludos,\n{name}",
        ],
        &[
            "Buenos días,\n\nqueremos ampliar el uso de {f} a más equipos y tenemos algunas dudas sobre la configuración.\n\nGracias,\n{name}",
        ],
    ),
    (
        &[
            "Bonjour,\n\ndepuis ce matin, {f} ne fonctionne plus correctement pour plusieurs utilisateurs. Rien n'a changé de notre côté.\n\nPourriez-vous regarder ?\n\nCordialement,\n{name}",
        ],
        &[
            "Bonjour,\n\nnous souhaitons déployer {f} auprès d'autres équipes et avons quelques questions de configuration.\n\nMerci,\n{name}",
        ],
    ),
];

pub(crate) fn descriptions(lang: Lang, question: bool) -> &'static [&'static str] {
    let (problems, questions) = DESCRIPTIONS[lang.index()];
    if question { questions } else { problems }
}

/// Agent replies per language: (to problem reports, to questions).
const REPLIES: [(&[&str], &[&str]); 5] = [
    (
        &[
            "Hi {req},\n\nThanks for reaching out. I have reproduced the behaviour with {f} and passed the details to our specialists. I will update you as soon as I hear back.\n\nBest regards,\n{agent}",
            "Hi {req},\n\nCould you send us the time of the last failure and the affected user's email address? That will help us trace the requests.\n\nThanks,\n{agent}",
        ],
        &[
            "Hi {req},\n\nGood question. Our setup guide for {f} walks through this step by step, including the limits per plan. Would a short call with our team help your rollout?\n\nBest regards,\n{agent}",
        ],
    ),
    (
        &[
            "{req}様\n\nお問い合わせありがとうございます。{f}の事象を確認いたしました。担当部署にて調査しておりますので、今しばらくお待ちください。\n\n{agent}",
            "{req}様\n\n恐れ入りますが、最後にエラーが発生した日時と対象ユーザーのメールアドレスをお知らせいただけますでしょうか。\n\n{agent}",
        ],
        &[
            "{req}様\n\nお問い合わせありがとうございます。{f}の設定手順はヘルプセンターのガイドにまとめております。ご希望でしたら、オンラインでのご説明の機会も設けますのでお知らせください。\n\n{agent}",
        ],
    ),
    (
        &[
            "Hallo {req},\n\nvielen Dank für Ihre Nachricht. Wir konnten das Verhalten nachstellen ({f}) und haben es an unser Fachteam weitergegeben.\n\nBeste Grüße\n{agent}",
        ],
        &[
            "Hallo {req},\n\ndanke für Ihre Frage. Unsere Einrichtungsanleitung ({f}) beschreibt das Schritt für Schritt, inklusive der Limits je Tarif.\n\nBeste Grüße\n{agent}",
        ],
    ),
    (
        &[
            "Hola {req},\n\ngracias por contactarnos. Hemos reproducido el problema ({f}) y lo hemos escalado a nuestro equipo técnico.\n\nUn saludo,\n{agent}",
        ],
        &[
            "Hola {req},\n\ngracias por su consulta. Nuestra guía de configuración ({f}) explica el proceso paso a paso, incluidos los límites de cada plan.\n\nUn saludo,\n{agent}",
        ],
    ),
    (
        &[
            "Bonjour {req},\n\nmerci pour votre message. Nous avons reproduit le comportement ({f}) et transmis le dossier à nos spécialistes.\n\nBien cordialement,\n{agent}",
        ],
        &[
            "Bonjour {req},\n\nmerci pour votre question. Notre guide de configuration ({f}) décrit la démarche pas à pas, limites par offre comprises.\n\nBien cordialement,\n{agent}",
        ],
    ),
];

pub(crate) fn replies(lang: Lang, question: bool) -> &'static [&'static str] {
    let (problems, questions) = REPLIES[lang.index()];
    if question { questions } else { problems }
}

/// Requester follow-ups per language: (on problem reports, on questions).
const FOLLOW_UPS: [(&[&str], &[&str]); 5] = [
    (
        &[
            "Thanks. It happened again at 09:40 today and affected three more users.",
            "Any update on this? It is blocking our team.",
        ],
        &["Thanks! One more question: does the same apply to our sandbox workspace?"],
    ),
    (
        &[
            "ご確認ありがとうございます。本日9時40分にも同じ事象が発生しました。",
            "その後の状況はいかがでしょうか。業務に影響が出ております。",
        ],
        &["ご案内ありがとうございます。検証環境でも同じ設定が可能でしょうか。"],
    ),
    (
        &[
            "Danke. Heute um 09:40 Uhr ist es erneut aufgetreten.",
            "Gibt es hierzu schon Neuigkeiten?",
        ],
        &["Danke! Gilt das auch für unsere Testumgebung?"],
    ),
    (
        &[
            "Gracias. Ha vuelto a ocurrir hoy a las 09:40.",
            "¿Hay alguna novedad?",
        ],
        &["¡Gracias! ¿Aplica lo mismo a nuestro entorno de pruebas?"],
    ),
    (
        &[
            "Merci. Le problème s'est reproduit aujourd'hui à 09h40.",
            "Avez-vous des nouvelles ?",
        ],
        &["Merci ! Est-ce valable aussi pour notre environnement de test ?"],
    ),
];

pub(crate) fn follow_ups(lang: Lang, question: bool) -> &'static [&'static str] {
    let (problems, questions) = FOLLOW_UPS[lang.index()];
    if question { questions } else { problems }
}

/// Closing replies per language: (problem fixed, question answered).
const SOLVED: [(&str, &str); 5] = [
    (
        "Hi {req},\n\nThe fix for {f} has been deployed and we confirmed it on your account. I will mark this ticket as solved; just reply if anything comes up again.\n\n{agent}",
        "Hi {req},\n\nI hope the guide answered your questions about {f}. I will mark this ticket as solved; just reply if you need anything else.\n\n{agent}",
    ),
    (
        "{req}様\n\n{f}の修正が完了し、貴社環境でも解消を確認いたしました。本チケットは解決済みとさせていただきます。\n\n{agent}",
        "{req}様\n\n{f}についてのご案内は以上となります。本チケットは解決済みとさせていただきます。ご不明な点がございましたら、お気軽にご返信ください。\n\n{agent}",
    ),
    (
        "Hallo {req},\n\ndie Korrektur ({f}) ist ausgerollt und in Ihrem Konto bestätigt. Wir schließen das Ticket; melden Sie sich gerne jederzeit.\n\n{agent}",
        "Hallo {req},\n\nwir hoffen, Ihre Fragen ({f}) sind beantwortet. Wir schließen das Ticket; melden Sie sich gerne jederzeit.\n\n{agent}",
    ),
    (
        "Hola {req},\n\nla corrección ({f}) ya está desplegada y confirmada en su cuenta. Marcamos el ticket como resuelto.\n\n{agent}",
        "Hola {req},\n\nesperamos haber resuelto sus dudas ({f}). Marcamos el ticket como resuelto.\n\n{agent}",
    ),
    (
        "Bonjour {req},\n\nle correctif ({f}) est déployé et vérifié sur votre compte. Nous clôturons ce ticket.\n\n{agent}",
        "Bonjour {req},\n\nnous espérons avoir répondu à vos questions ({f}). Nous clôturons ce ticket.\n\n{agent}",
    ),
];

pub(crate) fn solved(lang: Lang, question: bool) -> &'static str {
    let (fixed, answered) = SOLVED[lang.index()];
    if question { answered } else { fixed }
}

/// Internal notes are written by the team for the team, in English:
/// (on problem reports, on questions).
const INTERNAL_NOTES: (&[&str], &[&str]) = (
    &[
        "Checked logs: {f} requests from this org fail intermittently. Looks related to the last deploy; asked L2 to take a look.",
        "{segment} account, renewal coming up: keep them posted daily.",
        "Known issue tracked by engineering; workaround shared via macro. Waiting on the fix.",
        "Reproduced on staging. Escalating to the team that owns {f}.",
    ],
    &[
        "Adoption question about {f}: looping in the CSM, this could be an expansion conversation.",
        "{segment} account, renewal coming up: answer thoroughly and offer a walkthrough.",
    ],
);

pub(crate) fn internal_notes(question: bool) -> &'static [&'static str] {
    if question {
        INTERNAL_NOTES.1
    } else {
        INTERNAL_NOTES.0
    }
}

const INCIDENT_SUBJECTS: [&[&str]; 5] = [
    &[
        "API returns 500",
        "API returns 500 errors for the last few minutes",
        "Integration failing: HTTP 500 from the API",
        "Urgent: API requests failing for all our users",
        "Sync jobs failing with 5xx errors",
    ],
    &[
        "エラーが発生しています",
        "APIで500エラーが発生しています",
        "至急：API連携が失敗します",
        "データ連携でエラーが多発しています",
    ],
    &[
        "Fehler 500 bei API-Aufrufen",
        "Dringend: API antwortet mit 500",
    ],
    &["La API devuelve error 500", "Errores 500 en la integración"],
    &[
        "L'API renvoie des erreurs 500",
        "Urgent : échecs des appels API",
    ],
];

pub(crate) fn incident_subjects(lang: Lang) -> &'static [&'static str] {
    INCIDENT_SUBJECTS[lang.index()]
}

const INCIDENT_BODIES: [&str; 5] = [
    "Hi,\n\nFor the last few minutes our calls to the API fail with HTTP 500 (Internal Server Error). Our sync jobs and the CRM integration are both affected. Request IDs available on request.\n\nPlease advise urgently.\n{name}",
    "お世話になっております。{company}の{name}です。\n\n数分前からAPI呼び出しが500エラー（Internal Server Error）で失敗しています。基幹システムとの連携が停止しており、業務に影響が出ています。\n\n至急ご確認をお願いいたします。",
    "Hallo,\n\nseit einigen Minuten schlagen unsere API-Aufrufe mit HTTP 500 fehl. Die Synchronisation mit unserem ERP steht.\n\nBitte dringend prüfen.\n{name}",
    "Hola,\n\ndesde hace unos minutos nuestras llamadas a la API fallan con HTTP 500. La sincronización con nuestro CRM está detenida.\n\nPor favor, revísenlo con urgencia.\n{name}",
    "Bonjour,\n\ndepuis quelques minutes nos appels à l'API échouent avec une erreur HTTP 500. La synchronisation avec notre CRM est bloquée.\n\nMerci de regarder en urgence.\n{name}",
];

pub(crate) fn incident_body(lang: Lang) -> &'static str {
    INCIDENT_BODIES[lang.index()]
}

/// Curated companies per language: (display name, tenant slug).
const COMPANIES: [&[(&str, &str)]; 5] = [
    &[
        ("Acme Corporation", "acme"),
        ("Northwind Traders", "northwind"),
        ("Globex Industries", "globex"),
        ("Initech", "initech"),
        ("Blue Harbor Analytics", "blue-harbor"),
        ("Summit Health Partners", "summit-health"),
        ("Redwood Retail Group", "redwood-retail"),
        ("Brightline Energy", "brightline"),
        ("Ironclad Insurance", "ironclad"),
        ("Pinecrest Labs", "pinecrest"),
        ("Cobalt Freight", "cobalt-freight"),
        ("Keystone Media", "keystone-media"),
        ("Tidewater Bank", "tidewater-bank"),
        ("Evergreen Learning", "evergreen-learning"),
        ("Lumen Robotics", "lumen-robotics"),
        ("Harborview Hotels", "harborview"),
        ("Granite Payments", "granite-payments"),
        ("Beacon Telecom", "beacon-telecom"),
    ],
    &[
        ("株式会社ミドリ", "midori"),
        ("株式会社サクラ精工", "sakura-seiko"),
        ("日の出物流株式会社", "hinode-logistics"),
        ("株式会社アオバ製作所", "aoba"),
        ("富士見システムズ株式会社", "fujimi-systems"),
        ("北斗ソフトウェア株式会社", "hokuto-soft"),
        ("株式会社ツバメ運輸", "tsubame"),
        ("株式会社こだま食品", "kodama-foods"),
        ("みなと商事株式会社", "minato-shoji"),
        ("株式会社ユキマチ", "yukimachi"),
    ],
    &[
        ("Müller Logistik GmbH", "mueller-logistik"),
        ("Nordlicht Versicherung AG", "nordlicht"),
        ("Alpenblick Software GmbH", "alpenblick"),
        ("Brandt & Söhne KG", "brandt-soehne"),
        ("Rheinwerk Energie AG", "rheinwerk-energie"),
    ],
    &[
        ("Soluciones Andinas S.A.", "andinas"),
        ("Grupo Solano S.L.", "grupo-solano"),
        ("Farmacias del Sol S.A.", "farmacias-sol"),
        ("Viajes Marea S.L.", "viajes-marea"),
    ],
    &[
        ("Atelier Lumière SAS", "atelier-lumiere"),
        ("Banque du Rivage", "banque-rivage"),
        ("Groupe Mistral SA", "groupe-mistral"),
        ("Maison Vérane SAS", "maison-verane"),
    ],
];

pub(crate) fn companies(lang: Lang) -> &'static [(&'static str, &'static str)] {
    COMPANIES[lang.index()]
}

/// Parts for synthetic company names once the curated lists run out
/// (large `--customers` runs): (display part, slug part).
pub(crate) const SYNTH_EN_PREFIX: &[(&str, &str)] = &[
    ("Silverleaf", "silverleaf"),
    ("Copperline", "copperline"),
    ("Oakridge", "oakridge"),
    ("Bluestone", "bluestone"),
    ("Clearwater", "clearwater"),
    ("Highland", "highland"),
    ("Meridian", "meridian"),
    ("Riverside", "riverside"),
    ("Sunrise", "sunrise"),
    ("Westgate", "westgate"),
    ("Crescent", "crescent"),
    ("Juniper", "juniper"),
    ("Larkspur", "larkspur"),
    ("Northstar", "northstar"),
    ("Sable", "sable"),
    ("Willow", "willow"),
];
pub(crate) const SYNTH_EN_SUFFIX: &[(&str, &str)] = &[
    ("Analytics", "analytics"),
    ("Logistics", "logistics"),
    ("Health", "health"),
    ("Systems", "systems"),
    ("Foods", "foods"),
    ("Travel", "travel"),
    ("Capital", "capital"),
    ("Studios", "studios"),
    ("Robotics", "robotics"),
    ("Energy", "energy"),
];
pub(crate) const SYNTH_JA_PREFIX: &[(&str, &str)] = &[
    ("アサヒ", "asahi"),
    ("イナホ", "inaho"),
    ("カエデ", "kaede"),
    ("コハク", "kohaku"),
    ("シズク", "shizuku"),
    ("スバル", "subaru"),
    ("タチバナ", "tachibana"),
    ("ナギサ", "nagisa"),
    ("ハヤテ", "hayate"),
    ("ヒバリ", "hibari"),
    ("ホタル", "hotaru"),
    ("ワカバ", "wakaba"),
];
pub(crate) const SYNTH_JA_SUFFIX: &[(&str, &str)] = &[
    ("システム", "system"),
    ("工業", "kogyo"),
    ("商事", "shoji"),
    ("物流", "butsuryu"),
    ("製薬", "seiyaku"),
];

/// Requester names per language: (display name, email local part).
const PEOPLE: [&[(&str, &str)]; 5] = [
    &[
        ("Emily Clark", "emily.clark"),
        ("James Miller", "james.miller"),
        ("Olivia Brown", "olivia.brown"),
        ("Noah Davis", "noah.davis"),
        ("Ava Wilson", "ava.wilson"),
        ("Liam Moore", "liam.moore"),
        ("Grace Lee", "grace.lee"),
        ("Ethan Hall", "ethan.hall"),
    ],
    &[
        ("佐藤 美咲", "misaki.sato"),
        ("鈴木 健太", "kenta.suzuki"),
        ("高橋 陽子", "yoko.takahashi"),
        ("田中 翔", "sho.tanaka"),
        ("伊藤 さくら", "sakura.ito"),
        ("渡辺 大輔", "daisuke.watanabe"),
        ("山本 彩", "aya.yamamoto"),
    ],
    &[
        ("Anna Schmidt", "anna.schmidt"),
        ("Lukas Wagner", "lukas.wagner"),
        ("Marie Becker", "marie.becker"),
        ("Felix Hoffmann", "felix.hoffmann"),
        ("Sophie Klein", "sophie.klein"),
    ],
    &[
        ("Lucía García", "lucia.garcia"),
        ("Mateo López", "mateo.lopez"),
        ("Sofía Martínez", "sofia.martinez"),
        ("Javier Ruiz", "javier.ruiz"),
    ],
    &[
        ("Camille Dubois", "camille.dubois"),
        ("Hugo Lefèvre", "hugo.lefevre"),
        ("Léa Moreau", "lea.moreau"),
        ("Louis Girard", "louis.girard"),
    ],
];

pub(crate) fn people(lang: Lang) -> &'static [(&'static str, &'static str)] {
    PEOPLE[lang.index()]
}

/// Customer owners (CSMs and CREs) by the language of the accounts they own.
pub(crate) fn owners(lang: Lang) -> &'static [&'static str] {
    match lang {
        Lang::Ja => &["Haruka Sato", "Yuto Nakamura"],
        Lang::De => &["Lena Fischer"],
        Lang::Es => &["Diego Alvarez"],
        Lang::Fr => &["Chloé Martin"],
        Lang::En => &["Marcus Webb", "Sam Okafor", "Priya Raman"],
    }
}

/// Desk agents: (name, email local part, group index into [`GROUPS`]).
pub(crate) const AGENTS: &[(&str, &str, usize)] = &[
    ("Aiko Tanaka", "aiko.tanaka", 0),
    ("Ben Carter", "ben.carter", 0),
    ("Sofia Rossi", "sofia.rossi", 0),
    ("Jonas Weber", "jonas.weber", 1),
    ("Mei Lin", "mei.lin", 1),
    ("Haruka Sato", "haruka.sato", 2),
    ("Marcus Webb", "marcus.webb", 2),
    // The identity API writes are attributed to when the caller's email is
    // not one of the agents above.
    ("CRE Cockpit", "cockpit", 2),
];

/// Index in [`AGENTS`] of the API identity.
pub(crate) const API_AGENT: usize = 7;

pub(crate) const GROUPS: [&str; 3] = ["Support L1", "Support L2", "CRE"];

/// Fill `{f}`, `{F}` (capitalised), `{name}`, `{req}`, `{agent}`, `{company}`
/// and `{segment}` placeholders.
pub(crate) struct Fill<'a> {
    pub feature: &'a str,
    pub name: &'a str,
    pub agent: &'a str,
    pub company: &'a str,
    pub segment: &'a str,
}

pub(crate) fn fill(template: &str, values: &Fill<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let Some(end) = tail.find('}') else {
            out.push_str(tail);
            return out;
        };
        match &tail[1..end] {
            "f" => out.push_str(values.feature),
            "F" => push_capitalised(&mut out, values.feature),
            "name" | "req" => out.push_str(values.name),
            "agent" => out.push_str(values.agent),
            "company" => out.push_str(values.company),
            "segment" => push_capitalised(&mut out, values.segment),
            _ => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

fn push_capitalised(out: &mut String, text: &str) {
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_replaces_known_placeholders_and_keeps_others() {
        let values = Fill {
            feature: "the API",
            name: "Ann",
            agent: "Ben",
            company: "Acme",
            segment: "enterprise",
        };
        assert_eq!(
            fill("{F} broke for {name} ({x})", &values),
            "The API broke for Ann ({x})"
        );
        assert_eq!(fill("{segment} {unclosed", &values), "Enterprise {unclosed");
    }
}
