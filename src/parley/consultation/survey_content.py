"""The default questionnaire: UN75's one-minute survey, in the six UN languages.

This is the first version of the survey; organisers edit it from there (each edit is a new
version). Texts are data, not gettext messages, because organisers change them and each
response must stay tied to the exact wording it answered.
"""

from __future__ import annotations

import copy
from typing import Any

from parley.reference import DEMOGRAPHIC_LABELS
from parley.reference import TEXT_LANGUAGES as LANGS
from parley.reference import un_texts as t


def _opt(key: str, text: dict[str, str]) -> dict[str, Any]:
    return {"key": key, "text": text}


UP_TO_THREE = t(
    "Choose up to three.",
    "Choisissez-en trois au maximum.",
    "Elija hasta tres.",
    "اختر ثلاثة كحدّ أقصى.",
    "Выберите не более трёх.",
    "最多选择三项。",
)

OTHER = t(
    "Something else (please say what)",
    "Autre chose (précisez)",
    "Otra cosa (indique cuál)",
    "شيء آخر (يرجى التحديد)",
    "Другое (уточните)",
    "其他（请说明）",
)

FUTURE = {
    "key": "future",
    "kind": "single",
    "required": True,
    "text": t(
        "Overall, do you think that people will be better off, worse off or about the same in 2045 "
        "(25 years from now) as they are today?",
        "Dans l'ensemble, pensez-vous qu'en 2045 (dans 25 ans), les gens vivront mieux, moins bien ou à peu "
        "près comme aujourd'hui ?",
        "En general, ¿cree que en 2045 (dentro de 25 años) las personas estarán mejor, peor o más o menos "
        "igual que hoy?",
        "بشكل عام، هل تعتقد أن أحوال الناس في عام 2045 (بعد 25 عامًا) ستكون أفضل أم أسوأ أم كما هي اليوم تقريبًا؟",
        "В целом, как вы думаете, в 2045 году (через 25 лет) люди будут жить лучше, хуже или примерно так же, "
        "как сегодня?",
        "总体而言，您认为到2045年（25年后），人们的生活会比今天更好、更差，还是差不多？",
    ),
    "options": [
        _opt("better", t("Better off", "Mieux", "Mejor", "أفضل", "Лучше", "更好")),
        _opt("worse", t("Worse off", "Moins bien", "Peor", "أسوأ", "Хуже", "更差")),
        _opt("same", t("About the same", "À peu près pareil", "Más o menos igual", "كما هي تقريبًا",
                       "Примерно так же", "差不多")),
        _opt("dont_know", t("Don't know", "Je ne sais pas", "No lo sé", "لا أعرف", "Затрудняюсь ответить",
                            "不知道")),
    ],
}

PRIORITIES = {
    "key": "priorities",
    "kind": "multi",
    "required": True,
    "max_choices": 3,
    "randomise": True,
    "allow_other": True,
    "text": t(
        "What three things would you most like to see in 25 years' time?",
        "Quelles sont les trois choses que vous aimeriez le plus voir dans 25 ans ?",
        "¿Cuáles son las tres cosas que más le gustaría ver dentro de 25 años?",
        "ما هي الأشياء الثلاثة التي تودّ أن تراها أكثر من غيرها بعد 25 عامًا؟",
        "Какие три вещи вы больше всего хотели бы увидеть через 25 лет?",
        "25年后，您最希望看到哪三件事？",
    ),
    "help": UP_TO_THREE,
    "options": [
        _opt("human_rights", t(
            "Greater respect for human rights", "Un plus grand respect des droits humains",
            "Mayor respeto por los derechos humanos", "احترام أكبر لحقوق الإنسان",
            "Большее уважение прав человека", "更加尊重人权")),
        _opt("less_conflict", t(
            "Less conflict", "Moins de conflits", "Menos conflictos", "نزاعات أقل", "Меньше конфликтов", "减少冲突")),
        _opt("basic_services", t(
            "Equal access to basic services (healthcare, education, water and sanitation)",
            "Un accès égal aux services de base (santé, éducation, eau et assainissement)",
            "Igualdad de acceso a los servicios básicos (salud, educación, agua y saneamiento)",
            "المساواة في الحصول على الخدمات الأساسية (الرعاية الصحية والتعليم والمياه والصرف الصحي)",
            "Равный доступ к базовым услугам (здравоохранение, образование, вода и санитария)",
            "平等获得基本服务（医疗、教育、饮水和卫生设施）")),
        _opt("environment", t(
            "More environmental protection", "Une meilleure protection de l'environnement",
            "Más protección del medio ambiente", "مزيد من حماية البيئة",
            "Более эффективная охрана окружающей среды", "加强环境保护")),
        _opt("employment", t(
            "More employment opportunities", "Plus de possibilités d'emploi", "Más oportunidades de empleo",
            "مزيد من فرص العمل", "Больше возможностей трудоустройства", "更多就业机会")),
        _opt("less_corruption", t(
            "Less corruption", "Moins de corruption", "Menos corrupción", "فساد أقل", "Меньше коррупции", "减少腐败")),
        _opt("equality_within", t(
            "Greater equality within countries", "Plus d'égalité au sein des pays",
            "Mayor igualdad dentro de los países", "مساواة أكبر داخل البلدان", "Большее равенство внутри стран",
            "国家内部更加平等")),
        _opt("equality_between", t(
            "Greater equality between countries", "Plus d'égalité entre les pays",
            "Mayor igualdad entre los países", "مساواة أكبر بين البلدان", "Большее равенство между странами",
            "国家之间更加平等")),
        _opt("gender_equality", t(
            "Greater gender equality", "Plus d'égalité entre les femmes et les hommes", "Mayor igualdad de género",
            "مساواة أكبر بين الجنسين", "Большее гендерное равенство", "更加性别平等")),
        _opt("sustainable_consumption", t(
            "Sustainable consumption and production", "Une consommation et une production durables",
            "Consumo y producción sostenibles", "الاستهلاك والإنتاج المستدامان",
            "Устойчивое потребление и производство", "可持续的消费和生产")),
        _opt("migration", t(
            "Better management of international migration", "Une meilleure gestion des migrations internationales",
            "Mejor gestión de la migración internacional", "إدارة أفضل للهجرة الدولية",
            "Более эффективное регулирование международной миграции", "更好地管理国际移民")),
        _opt("other", OTHER),
    ],
}

TRENDS = {
    "key": "trends",
    "kind": "multi",
    "required": True,
    "max_choices": 3,
    "randomise": True,
    "allow_other": True,
    "text": t(
        "Which of these global trends do you think will most affect our future?",
        "Parmi ces tendances mondiales, lesquelles auront selon vous le plus d'effet sur notre avenir ?",
        "¿Cuáles de estas tendencias mundiales cree que afectarán más a nuestro futuro?",
        "أيّ من هذه الاتجاهات العالمية تعتقد أنها ستؤثر أكثر من غيرها في مستقبلنا؟",
        "Какие из этих глобальных тенденций, по-вашему, больше всего повлияют на наше будущее?",
        "您认为以下哪些全球趋势对我们的未来影响最大？",
    ),
    "help": UP_TO_THREE,
    "options": [
        _opt("climate", t(
            "Climate change and environmental issues",
            "Le changement climatique et les problèmes environnementaux",
            "El cambio climático y los problemas ambientales", "تغيّر المناخ والقضايا البيئية",
            "Изменение климата и экологические проблемы", "气候变化和环境问题")),
        _opt("armed_conflict", t(
            "Armed conflict and politically motivated violence",
            "Les conflits armés et la violence à motivation politique",
            "Los conflictos armados y la violencia por motivos políticos",
            "النزاعات المسلحة والعنف ذو الدوافع السياسية",
            "Вооружённые конфликты и политически мотивированное насилие", "武装冲突和出于政治动机的暴力")),
        _opt("new_technologies", t(
            "Risks from new technologies", "Les risques liés aux nouvelles technologies",
            "Los riesgos de las nuevas tecnologías", "المخاطر الناجمة عن التكنولوجيات الجديدة",
            "Риски, связанные с новыми технологиями", "新技术带来的风险")),
        _opt("forced_migration", t(
            "Forced migration and displacement", "Les migrations forcées et les déplacements de population",
            "La migración forzada y los desplazamientos", "الهجرة القسرية والنزوح",
            "Вынужденная миграция и перемещение населения", "被迫移民和流离失所")),
        _opt("health_risks", t(
            "Health risks", "Les risques sanitaires", "Los riesgos para la salud", "المخاطر الصحية",
            "Угрозы здоровью", "健康风险")),
        _opt("cyber_warfare", t(
            "Cyber warfare and new forms of violence", "La cyberguerre et les nouvelles formes de violence",
            "La ciberguerra y las nuevas formas de violencia", "الحرب السيبرانية وأشكال العنف الجديدة",
            "Кибервойны и новые формы насилия", "网络战和新形式的暴力")),
        _opt("terrorism", t("Terrorism", "Le terrorisme", "El terrorismo", "الإرهاب", "Терроризм", "恐怖主义")),
        _opt("nuclear_weapons", t(
            "Nuclear weapons and other weapons of mass destruction",
            "Les armes nucléaires et les autres armes de destruction massive",
            "Las armas nucleares y otras armas de destrucción masiva",
            "الأسلحة النووية وغيرها من أسلحة الدمار الشامل",
            "Ядерное и другие виды оружия массового уничтожения", "核武器和其他大规模杀伤性武器")),
        _opt("population", t(
            "Population changes", "Les changements démographiques", "Los cambios demográficos",
            "التغيرات السكانية", "Демографические изменения", "人口变化")),
        _opt("relations", t(
            "Breakdown of relations between countries", "La dégradation des relations entre les pays",
            "El deterioro de las relaciones entre los países", "انهيار العلاقات بين البلدان",
            "Разрушение отношений между странами", "国家间关系破裂")),
        _opt("urbanisation", t(
            "Rapid urbanisation", "L'urbanisation rapide", "La urbanización rápida", "التوسّع الحضري السريع",
            "Быстрая урбанизация", "快速城市化")),
        _opt("other", OTHER),
    ],
}

COOPERATION = {
    "key": "cooperation",
    "kind": "scale",
    "required": True,
    "text": t(
        "How important is it for countries to work together to manage these trends?",
        "Dans quelle mesure est-il important que les pays travaillent ensemble pour faire face à ces tendances ?",
        "¿Qué importancia tiene que los países trabajen juntos para hacer frente a estas tendencias?",
        "ما مدى أهمية أن تعمل البلدان معًا للتعامل مع هذه الاتجاهات؟",
        "Насколько важно, чтобы страны работали вместе, справляясь с этими тенденциями?",
        "各国携手应对这些趋势有多重要？",
    ),
    "options": [
        _opt("essential", t("Essential", "Indispensable", "Imprescindible", "ضروري", "Крайне необходимо",
                            "必不可少")),
        _opt("very", t("Very important", "Très important", "Muy importante", "مهم جدًا", "Очень важно",
                       "非常重要")),
        _opt("fairly", t("Fairly important", "Assez important", "Bastante importante", "مهم إلى حدّ ما",
                         "Довольно важно", "比较重要")),
        _opt("not_very", t("Not very important", "Peu important", "Poco importante", "غير مهم كثيرًا",
                           "Не очень важно", "不太重要")),
        _opt("not_at_all", t("Not at all important", "Pas du tout important", "Nada importante",
                             "غير مهم على الإطلاق", "Совсем не важно", "完全不重要")),
    ],
}

ADVICE = {
    "key": "advice",
    "kind": "text",
    "required": False,
    "max_length": 2000,
    "text": t(
        "What would you advise the United Nations to do?",
        "Que conseilleriez-vous aux Nations Unies de faire ?",
        "¿Qué aconsejaría hacer a las Naciones Unidas?",
        "بماذا تنصح الأمم المتحدة أن تفعل؟",
        "Что бы вы посоветовали сделать Организации Объединённых Наций?",
        "您会建议联合国做些什么？",
    ),
    "help": t(
        "Write in any language. Please do not include your name or anything else that identifies you.",
        "Écrivez dans la langue de votre choix. N'indiquez pas votre nom ni rien qui permette de vous identifier.",
        "Escriba en el idioma que prefiera. No incluya su nombre ni nada que permita identificarle.",
        "اكتب بأي لغة تشاء. يرجى عدم ذكر اسمك أو أي شيء آخر يدل على هويتك.",
        "Пишите на любом языке. Пожалуйста, не указывайте своё имя и другие сведения, по которым вас можно "
        "узнать.",
        "可使用任何语言填写。请不要写下您的姓名或任何可以识别您身份的信息。",
    ),
    "options": [],
}

LABELS: dict[str, dict[str, str]] = {
    **DEMOGRAPHIC_LABELS,
    "about_you": t("About you", "À propos de vous", "Sobre usted", "معلومات عنك", "О вас", "关于您"),
    "about_you_help": t(
        "These answers help us see who took part. Every one is optional.",
        "Ces réponses nous aident à savoir qui a participé. Elles sont toutes facultatives.",
        "Estas respuestas nos ayudan a saber quién participó. Todas son opcionales.",
        "تساعدنا هذه الإجابات على معرفة من شارك. وكلها اختيارية.",
        "Эти ответы помогают нам понять, кто принял участие. Все они необязательны.",
        "这些回答帮助我们了解参与者的构成。所有问题均为选答。",
    ),
    "age_group": t("Your age", "Votre âge", "Su edad", "عمرك", "Ваш возраст", "您的年龄"),
    "gender": t("Your gender", "Votre genre", "Su género", "جنسك", "Ваш пол", "您的性别"),
    "gender.female": t("Female", "Femme", "Mujer", "أنثى", "Женский", "女"),
    "gender.male": t("Male", "Homme", "Hombre", "ذكر", "Мужской", "男"),
    "gender.other": t("Other", "Autre", "Otro", "آخر", "Другое", "其他"),
    "country": t("Country where you live", "Pays où vous vivez", "País donde vive", "البلد الذي تعيش فيه",
                 "Страна проживания", "您居住的国家"),
    "education": t(
        "Highest level of education you have completed", "Niveau d'études le plus élevé que vous avez atteint",
        "Nivel de estudios más alto que ha completado", "أعلى مستوى تعليمي أكملته",
        "Ваш наивысший уровень образования", "您完成的最高教育程度"),
    "other_answer": t("Your own answer", "Votre propre réponse", "Su propia respuesta", "إجابتك الخاصة",
                      "Ваш вариант", "您自己的答案"),
    "consent": t("Your consent", "Votre consentement", "Su consentimiento", "موافقتك", "Ваше согласие", "您的同意"),
    "consent_analysis": t("May we use your answers?", "Pouvons-nous utiliser vos réponses ?",
                          "¿Podemos usar sus respuestas?", "هل يمكننا استخدام إجاباتك؟",
                          "Можем ли мы использовать ваши ответы?", "我们可以使用您的回答吗？"),
    "consent_analysis.yes": t(
        "Yes: include my answers in the results and the analysis of this consultation.",
        "Oui : intégrez mes réponses aux résultats et à l'analyse de cette consultation.",
        "Sí: incluyan mis respuestas en los resultados y el análisis de esta consulta.",
        "نعم: أدرجوا إجاباتي في نتائج هذه المشاورة وتحليلها.",
        "Да: включите мои ответы в результаты и анализ этой консультации.",
        "是：请将我的回答纳入本次咨询的结果和分析。"),
    "consent_analysis.no": t(
        "No: only count that I took part, and discard my answers.",
        "Non : comptez seulement ma participation et supprimez mes réponses.",
        "No: cuenten solo que participé y descarten mis respuestas.",
        "لا: احسبوا مشاركتي فقط وتجاهلوا إجاباتي.",
        "Нет: учтите только факт моего участия, а ответы удалите.",
        "否：仅统计我的参与，并丢弃我的回答。"),
    "consent_quotes": t(
        "My answer to the open question may be quoted anonymously in reports and published data.",
        "Ma réponse à la question ouverte peut être citée de façon anonyme dans les rapports et les données "
        "publiées.",
        "Mi respuesta a la pregunta abierta puede citarse de forma anónima en informes y datos publicados.",
        "يجوز اقتباس إجابتي عن السؤال المفتوح دون ذكر هويتي في التقارير والبيانات المنشورة.",
        "Мой ответ на открытый вопрос можно анонимно цитировать в отчётах и опубликованных данных.",
        "我对开放式问题的回答可以匿名引用于报告和公开数据中。"),
    "privacy": t(
        "We do not record your name, email or IP address. After you submit, you get a code that lets you "
        "withdraw your answers at any time.",
        "Nous n'enregistrons ni votre nom, ni votre adresse e-mail, ni votre adresse IP. Après l'envoi, vous "
        "recevez un code qui vous permet de retirer vos réponses à tout moment.",
        "No registramos su nombre, su correo electrónico ni su dirección IP. Después de enviar, recibirá un "
        "código para retirar sus respuestas en cualquier momento.",
        "لا نسجّل اسمك أو بريدك الإلكتروني أو عنوان IP الخاص بك. بعد الإرسال، ستحصل على رمز يتيح لك سحب "
        "إجاباتك في أي وقت.",
        "Мы не сохраняем ваше имя, адрес электронной почты или IP-адрес. После отправки вы получите код, с "
        "помощью которого сможете в любой момент отозвать свои ответы.",
        "我们不会记录您的姓名、电子邮件或IP地址。提交后，您将获得一个代码，可随时用它撤回您的回答。"),
}


def default_definition() -> dict[str, Any]:
    """The first version of the survey, as stored (JSON); a fresh copy each call."""
    return copy.deepcopy({
        "languages": list(LANGS),
        "default_language": "en",
        "title": t(
            "The future we want: a one-minute survey",
            "L'avenir que nous voulons : un sondage d'une minute",
            "El futuro que queremos: una encuesta de un minuto",
            "المستقبل الذي نريده: استطلاع لمدة دقيقة واحدة",
            "Будущее, которого мы хотим: опрос на одну минуту",
            "我们想要的未来：一分钟调查",
        ),
        "intro": t(
            "The United Nations wants to hear from everyone, everywhere. This survey takes about a minute. "
            "We do not ask for your name or email address.",
            "Les Nations Unies veulent entendre chacun, partout. Ce sondage prend environ une minute. Nous ne "
            "demandons ni votre nom ni votre adresse e-mail.",
            "Las Naciones Unidas quieren escuchar a todas las personas, en todas partes. Esta encuesta dura "
            "alrededor de un minuto. No le pedimos su nombre ni su correo electrónico.",
            "تريد الأمم المتحدة أن تسمع من الجميع في كل مكان. يستغرق هذا الاستطلاع دقيقة واحدة تقريبًا. لا نطلب "
            "اسمك ولا عنوان بريدك الإلكتروني.",
            "Организация Объединённых Наций хочет услышать каждого, где бы он ни был. Опрос займёт около минуты. "
            "Мы не спрашиваем ваше имя или адрес электронной почты.",
            "联合国希望听到世界各地每一个人的声音。本调查大约需要一分钟。我们不会询问您的姓名或电子邮件地址。",
        ),
        "questions": [FUTURE, PRIORITIES, TRENDS, COOPERATION, ADVICE],
        "labels": LABELS,
    })
