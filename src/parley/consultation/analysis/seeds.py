"""Seed themes and sentiment anchors, written for Parley in the six UN languages plus German
(themes also in Portuguese and Hindi, the languages of the real citizens' dialogue data).

Each theme has a short name and three example answers per language, phrased the way people
answer "what would you advise the UN to do?". They are not translations of each other word
for word, so the embedding of a theme is not tied to one phrasing. Nothing here is copied
from the evaluation data.
"""

from __future__ import annotations

from collections.abc import Mapping

SEED_LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "ar", "ru", "zh", "de", "pt", "hi")

# theme id -> language -> (name, example, example, example)
SEED_THEMES: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "climate": {
        "en": (
            "Climate and environment",
            "Stop climate change by cutting greenhouse gas emissions and moving to renewable energy.",
            "Protect forests, oceans and biodiversity from pollution.",
            "Invest in solar and wind power, public transport and energy-efficient buildings.",
        ),
        "fr": (
            "Climat et environnement",
            "Lutter contre le réchauffement climatique en réduisant les émissions de CO2.",
            "Protéger la nature, les forêts et la biodiversité contre la pollution.",
            "Développer les énergies renouvelables, les transports en commun et le vélo.",
        ),
        "es": (
            "Clima y medio ambiente",
            "Frenar el cambio climático reduciendo las emisiones de gases de efecto invernadero.",
            "Proteger los bosques, los océanos y la biodiversidad de la contaminación.",
            "Invertir en energía solar y eólica y en transporte público limpio.",
        ),
        "ar": (
            "المناخ والبيئة",
            "مكافحة تغير المناخ عبر خفض انبعاثات الغازات الدفيئة.",
            "حماية الغابات والمحيطات والتنوع البيولوجي من التلوث.",
            "الاستثمار في الطاقة الشمسية وطاقة الرياح والنقل العام النظيف.",
        ),
        "ru": (
            "Климат и окружающая среда",
            "Остановить изменение климата, сократив выбросы парниковых газов.",
            "Защищать леса, океаны и биоразнообразие от загрязнения.",
            "Развивать возобновляемую энергетику, общественный транспорт и энергосбережение.",
        ),
        "zh": (
            "气候与环境",
            "通过减少温室气体排放来应对气候变化。",
            "保护森林、海洋和生物多样性，防止环境污染。",
            "发展太阳能和风能等可再生能源以及公共交通。",
        ),
        "de": (
            "Klima und Umwelt",
            "Den Klimawandel stoppen und den CO2-Ausstoß schnell senken.",
            "Natur, Wälder und Artenvielfalt vor Umweltverschmutzung schützen.",
            "Erneuerbare Energien, öffentlichen Verkehr und Radwege ausbauen, Gebäude dämmen.",
        ),
        "pt": (
            "Clima e meio ambiente",
            "Combater as mudanças climáticas e cortar as emissões de gases de efeito estufa.",
            "Proteger as florestas, os rios e a biodiversidade da poluição e do desmatamento.",
            "Investir em energia solar e eólica, transporte público e ciclovias.",
        ),
        "hi": (
            "जलवायु और पर्यावरण",
            "ग्रीनहाउस गैसों का उत्सर्जन घटाकर जलवायु परिवर्तन को रोका जाए।",
            "जंगलों, नदियों और जैव विविधता को प्रदूषण से बचाया जाए।",
            "सौर और पवन ऊर्जा, सार्वजनिक परिवहन और साइकिल मार्गों में निवेश हो।",
        ),
    },
    "health": {
        "en": (
            "Health",
            "Make quality health care and medicines affordable for everyone.",
            "Prepare for pandemics and strengthen hospitals and vaccination.",
            "Invest in mental health services and disease prevention.",
        ),
        "fr": (
            "Santé",
            "Garantir l'accès de tous à des soins de santé et des médicaments abordables.",
            "Renforcer les hôpitaux et se préparer aux prochaines pandémies.",
            "Mieux prendre en charge la santé mentale et la prévention des maladies.",
        ),
        "es": (
            "Salud",
            "Garantizar atención sanitaria y medicamentos asequibles para todos.",
            "Fortalecer los hospitales y prepararse para futuras pandemias.",
            "Invertir en salud mental y en la prevención de enfermedades.",
        ),
        "ar": (
            "الصحة",
            "توفير رعاية صحية وأدوية ميسورة التكلفة للجميع.",
            "تعزيز المستشفيات والاستعداد للأوبئة والتطعيم.",
            "الاهتمام بالصحة النفسية والوقاية من الأمراض.",
        ),
        "ru": (
            "Здоровье",
            "Сделать качественную медицинскую помощь и лекарства доступными для всех.",
            "Укреплять больницы, готовиться к пандемиям и поддерживать вакцинацию.",
            "Развивать службы психического здоровья и профилактику болезней.",
        ),
        "zh": (
            "健康",
            "让每个人都能获得负担得起的医疗服务和药品。",
            "加强医院建设，做好应对疫情和疫苗接种的准备。",
            "重视心理健康和疾病预防。",
        ),
        "de": (
            "Gesundheit",
            "Gute Gesundheitsversorgung und Medikamente für alle bezahlbar machen.",
            "Krankenhäuser stärken und auf Pandemien vorbereitet sein.",
            "Mehr für psychische Gesundheit und Vorsorge tun.",
        ),
        "pt": (
            "Saúde",
            "Garantir atendimento de saúde e remédios acessíveis para todos.",
            "Fortalecer os hospitais e preparar o mundo para as próximas pandemias.",
            "Cuidar mais da saúde mental e da prevenção de doenças.",
        ),
        "hi": (
            "स्वास्थ्य",
            "सबके लिए सस्ती स्वास्थ्य सेवा और दवाइयाँ उपलब्ध हों।",
            "अस्पतालों को मज़बूत बनाया जाए और महामारियों की तैयारी हो।",
            "मानसिक स्वास्थ्य और बीमारियों की रोकथाम पर ज़्यादा ध्यान दिया जाए।",
        ),
    },
    "inequality": {
        "en": (
            "Inequality and poverty",
            "End extreme poverty and reduce the gap between rich and poor.",
            "Provide social protection, a basic income and affordable housing for people in need.",
            "Make the richest pay their fair share so wealth is distributed more fairly.",
        ),
        "fr": (
            "Inégalités et pauvreté",
            "Éradiquer l'extrême pauvreté et réduire l'écart entre riches et pauvres.",
            "Offrir une protection sociale et des logements abordables aux plus démunis.",
            "Mieux répartir les richesses entre les pays et au sein des sociétés.",
        ),
        "es": (
            "Desigualdad y pobreza",
            "Acabar con la pobreza extrema y reducir la brecha entre ricos y pobres.",
            "Dar protección social y vivienda asequible a las personas vulnerables.",
            "Repartir la riqueza de forma más justa entre países y personas.",
        ),
        "ar": (
            "عدم المساواة والفقر",
            "القضاء على الفقر المدقع وتقليص الفجوة بين الأغنياء والفقراء.",
            "توفير الحماية الاجتماعية والسكن الميسور للفئات المحتاجة.",
            "توزيع الثروة بشكل أكثر عدلاً بين الدول والناس.",
        ),
        "ru": (
            "Неравенство и бедность",
            "Покончить с крайней бедностью и сократить разрыв между богатыми и бедными.",
            "Обеспечить социальную защиту и доступное жильё для нуждающихся.",
            "Распределять богатство справедливее между странами и людьми.",
        ),
        "zh": (
            "不平等与贫困",
            "消除极端贫困，缩小贫富差距。",
            "为弱势群体提供社会保障和可负担的住房。",
            "让财富在国家之间和人与人之间分配得更加公平。",
        ),
        "de": (
            "Ungleichheit und Armut",
            "Armut bekämpfen und die Kluft zwischen Arm und Reich verringern.",
            "Soziale Absicherung und leistbares Wohnen für Menschen in Not.",
            "Reichtum gerechter verteilen, auch zwischen reichen und armen Ländern.",
        ),
        "pt": (
            "Desigualdade e pobreza",
            "Acabar com a pobreza e reduzir a distância entre ricos e pobres.",
            "Proteção social e moradia digna para quem mais precisa.",
            "Distribuir a riqueza de forma mais justa, também entre países ricos e pobres.",
        ),
        "hi": (
            "असमानता और गरीबी",
            "गरीबी खत्म हो और अमीर-गरीब के बीच की खाई कम हो।",
            "ज़रूरतमंद लोगों को सामाजिक सुरक्षा और सस्ता घर मिले।",
            "धन का बँटवारा ज़्यादा न्यायपूर्ण हो, अमीर और गरीब देशों के बीच भी।",
        ),
    },
    "peace": {
        "en": (
            "Conflict and peace",
            "Stop wars and armed conflicts through diplomacy and mediation.",
            "Reduce military spending and control the spread of weapons.",
            "Protect civilians and support peacekeeping and reconciliation after violence.",
        ),
        "fr": (
            "Conflits et paix",
            "Mettre fin aux guerres et aux conflits armés par la diplomatie.",
            "Réduire les dépenses militaires et contrôler le commerce des armes.",
            "Protéger les civils et soutenir le maintien de la paix.",
        ),
        "es": (
            "Conflicto y paz",
            "Poner fin a las guerras y conflictos armados mediante el diálogo.",
            "Reducir el gasto militar y controlar la venta de armas.",
            "Proteger a los civiles y apoyar las misiones de paz y la reconciliación.",
        ),
        "ar": (
            "النزاعات والسلام",
            "وقف الحروب والنزاعات المسلحة عبر الدبلوماسية والوساطة.",
            "خفض الإنفاق العسكري والحد من انتشار الأسلحة.",
            "حماية المدنيين ودعم حفظ السلام والمصالحة.",
        ),
        "ru": (
            "Конфликты и мир",
            "Прекратить войны и вооружённые конфликты с помощью дипломатии.",
            "Сократить военные расходы и ограничить распространение оружия.",
            "Защищать мирных жителей и поддерживать миротворческие миссии.",
        ),
        "zh": (
            "冲突与和平",
            "通过外交和调解结束战争与武装冲突。",
            "减少军费开支，控制武器扩散。",
            "保护平民，支持维和行动与和解。",
        ),
        "de": (
            "Konflikt und Frieden",
            "Kriege und bewaffnete Konflikte durch Diplomatie beenden.",
            "Rüstungsausgaben senken und Waffenhandel kontrollieren.",
            "Zivilisten schützen und Friedensmissionen unterstützen.",
        ),
        "pt": (
            "Conflitos e paz",
            "Acabar com as guerras e os conflitos armados pelo diálogo e pela diplomacia.",
            "Reduzir os gastos militares e controlar o comércio de armas.",
            "Proteger os civis e apoiar as missões de paz.",
        ),
        "hi": (
            "संघर्ष और शांति",
            "बातचीत और कूटनीति से युद्ध और सशस्त्र संघर्ष खत्म किए जाएँ।",
            "सैन्य खर्च घटाया जाए और हथियारों के व्यापार पर नियंत्रण हो।",
            "नागरिकों की रक्षा हो और शांति मिशनों को समर्थन मिले।",
        ),
    },
    "education": {
        "en": (
            "Education",
            "Every child should have access to free, good quality schooling.",
            "Train and pay teachers better and modernise school curricula.",
            "Support universities, vocational training and lifelong learning.",
        ),
        "fr": (
            "Éducation",
            "Chaque enfant doit avoir accès à une école gratuite et de qualité.",
            "Mieux former et mieux payer les enseignants.",
            "Développer la formation professionnelle et l'apprentissage tout au long de la vie.",
        ),
        "es": (
            "Educación",
            "Todos los niños deben tener acceso a una educación gratuita y de calidad.",
            "Formar mejor a los docentes y pagarles mejor.",
            "Apoyar las universidades, la formación profesional y el aprendizaje continuo.",
        ),
        "ar": (
            "التعليم",
            "يجب أن يحصل كل طفل على تعليم مجاني وجيد.",
            "تدريب المعلمين بشكل أفضل وتحسين رواتبهم.",
            "دعم الجامعات والتدريب المهني والتعلم مدى الحياة.",
        ),
        "ru": (
            "Образование",
            "Каждый ребёнок должен иметь доступ к бесплатному качественному образованию.",
            "Лучше готовить учителей и повышать им зарплату.",
            "Поддерживать университеты, профессиональное обучение и образование в течение всей жизни.",
        ),
        "zh": (
            "教育",
            "每个孩子都应该享有免费、优质的教育。",
            "加强教师培训，提高教师待遇。",
            "支持大学、职业培训和终身学习。",
        ),
        "de": (
            "Bildung",
            "Jedes Kind soll kostenlose, gute Schulbildung bekommen.",
            "Lehrkräfte besser ausbilden und bezahlen.",
            "Universitäten, Berufsausbildung und lebenslanges Lernen fördern.",
        ),
        "pt": (
            "Educação",
            "Toda criança deve ter acesso a uma escola pública gratuita e de qualidade.",
            "Formar melhor os professores e pagar salários dignos.",
            "Apoiar as universidades, o ensino técnico e a aprendizagem ao longo da vida.",
        ),
        "hi": (
            "शिक्षा",
            "हर बच्चे को मुफ़्त और अच्छी स्कूली शिक्षा मिले।",
            "शिक्षकों को बेहतर प्रशिक्षण और उचित वेतन मिले।",
            "विश्वविद्यालयों, व्यावसायिक प्रशिक्षण और आजीवन सीखने को बढ़ावा मिले।",
        ),
    },
    "economy": {
        "en": (
            "Jobs and economy",
            "Create decent jobs and fair wages, especially for young people.",
            "Support small businesses, trade and economic growth.",
            "Reform taxes, public spending and prices so the economy works for people.",
        ),
        "fr": (
            "Emploi et économie",
            "Créer des emplois décents avec des salaires justes, surtout pour les jeunes.",
            "Soutenir les petites entreprises, le commerce et la croissance économique.",
            "Réformer la fiscalité et maîtriser le coût de la vie.",
        ),
        "es": (
            "Empleo y economía",
            "Crear empleo digno con salarios justos, sobre todo para los jóvenes.",
            "Apoyar a las pequeñas empresas, el comercio y el crecimiento económico.",
            "Reformar los impuestos y controlar los precios y el coste de vida.",
        ),
        "ar": (
            "الوظائف والاقتصاد",
            "خلق فرص عمل لائقة بأجور عادلة خاصة للشباب.",
            "دعم الشركات الصغيرة والتجارة والنمو الاقتصادي.",
            "إصلاح الضرائب وضبط الأسعار وتكاليف المعيشة.",
        ),
        "ru": (
            "Работа и экономика",
            "Создавать достойные рабочие места со справедливой зарплатой, особенно для молодёжи.",
            "Поддерживать малый бизнес, торговлю и экономический рост.",
            "Реформировать налоги и сдерживать рост цен.",
        ),
        "zh": (
            "就业与经济",
            "创造体面的就业机会和合理的工资，尤其是为年轻人。",
            "支持小企业、贸易和经济增长。",
            "改革税收制度，控制物价和生活成本。",
        ),
        "de": (
            "Arbeit und Wirtschaft",
            "Gute Arbeitsplätze mit fairen Löhnen schaffen, besonders für junge Menschen.",
            "Kleine Unternehmen, Handel und Wirtschaft stärken.",
            "Steuern reformieren und die Lebenshaltungskosten senken.",
        ),
        "pt": (
            "Emprego e economia",
            "Criar empregos decentes com salários justos, principalmente para os jovens.",
            "Apoiar os pequenos negócios, o comércio e o crescimento econômico.",
            "Reformar os impostos e baixar o custo de vida.",
        ),
        "hi": (
            "रोज़गार और अर्थव्यवस्था",
            "युवाओं के लिए अच्छे वेतन वाली नौकरियाँ पैदा की जाएँ।",
            "छोटे व्यवसायों, व्यापार और आर्थिक विकास को समर्थन मिले।",
            "कर व्यवस्था में सुधार हो और महँगाई कम हो।",
        ),
    },
    "technology": {
        "en": (
            "Technology",
            "Close the digital divide so everyone has internet access.",
            "Regulate artificial intelligence, online platforms and data privacy.",
            "Invest in science, research and innovation that benefits everyone.",
        ),
        "fr": (
            "Technologie",
            "Réduire la fracture numérique et donner accès à Internet à tous.",
            "Encadrer l'intelligence artificielle, les plateformes numériques et les données personnelles.",
            "Investir dans la science, la recherche et l'innovation.",
        ),
        "es": (
            "Tecnología",
            "Cerrar la brecha digital para que todos tengan acceso a internet.",
            "Regular la inteligencia artificial, las plataformas digitales y la privacidad de los datos.",
            "Invertir en ciencia, investigación e innovación.",
        ),
        "ar": (
            "التكنولوجيا",
            "سد الفجوة الرقمية وتوفير الإنترنت للجميع.",
            "تنظيم الذكاء الاصطناعي والمنصات الرقمية وحماية البيانات.",
            "الاستثمار في العلوم والبحث والابتكار.",
        ),
        "ru": (
            "Технологии",
            "Преодолеть цифровое неравенство и обеспечить всем доступ к интернету.",
            "Регулировать искусственный интеллект, цифровые платформы и защиту данных.",
            "Вкладывать в науку, исследования и инновации.",
        ),
        "zh": (
            "科技",
            "缩小数字鸿沟，让每个人都能上网。",
            "规范人工智能、网络平台和个人数据隐私。",
            "投资科学研究与技术创新。",
        ),
        "de": (
            "Technologie",
            "Die digitale Kluft schließen und allen Internetzugang geben.",
            "Künstliche Intelligenz, Online-Plattformen und Datenschutz regeln.",
            "In Wissenschaft, Forschung und Innovation investieren.",
        ),
        "pt": (
            "Tecnologia",
            "Acabar com a exclusão digital e levar internet a todos.",
            "Regular a inteligência artificial, as redes sociais e a proteção de dados.",
            "Investir em ciência, pesquisa e inovação.",
        ),
        "hi": (
            "प्रौद्योगिकी",
            "डिजिटल खाई पाटी जाए और सबको इंटरनेट मिले।",
            "कृत्रिम बुद्धिमत्ता, सोशल मीडिया और डेटा सुरक्षा पर नियम बनें।",
            "विज्ञान, अनुसंधान और नवाचार में निवेश हो।",
        ),
    },
    "rights": {
        "en": (
            "Human rights",
            "Protect freedom of speech, assembly and the press everywhere.",
            "End discrimination and racism against minorities and indigenous peoples.",
            "Hold governments accountable for torture, unfair trials and human rights abuses.",
        ),
        "fr": (
            "Droits humains",
            "Protéger la liberté d'expression, de réunion et de la presse.",
            "Mettre fin aux discriminations et au racisme envers les minorités.",
            "Sanctionner la torture et les violations des droits humains.",
        ),
        "es": (
            "Derechos humanos",
            "Proteger la libertad de expresión, de reunión y de prensa.",
            "Acabar con la discriminación y el racismo contra las minorías y los pueblos indígenas.",
            "Exigir responsabilidades por la tortura y las violaciones de derechos humanos.",
        ),
        "ar": (
            "حقوق الإنسان",
            "حماية حرية التعبير والتجمع والصحافة.",
            "إنهاء التمييز والعنصرية ضد الأقليات والشعوب الأصلية.",
            "محاسبة الحكومات على التعذيب وانتهاكات حقوق الإنسان.",
        ),
        "ru": (
            "Права человека",
            "Защищать свободу слова, собраний и прессы.",
            "Покончить с дискриминацией и расизмом в отношении меньшинств.",
            "Привлекать к ответственности за пытки и нарушения прав человека.",
        ),
        "zh": (
            "人权",
            "保护言论、集会和新闻自由。",
            "消除对少数群体和原住民的歧视与种族主义。",
            "追究酷刑和侵犯人权行为的责任。",
        ),
        "de": (
            "Menschenrechte",
            "Meinungs-, Versammlungs- und Pressefreiheit überall schützen.",
            "Diskriminierung und Rassismus gegen Minderheiten beenden.",
            "Folter und Menschenrechtsverletzungen konsequent verfolgen.",
        ),
        "pt": (
            "Direitos humanos",
            "Defender a liberdade de expressão, de reunião e de imprensa em todo lugar.",
            "Acabar com a discriminação e o racismo contra as minorias.",
            "Punir a tortura e as violações de direitos humanos.",
        ),
        "hi": (
            "मानवाधिकार",
            "हर जगह अभिव्यक्ति, सभा और प्रेस की स्वतंत्रता की रक्षा हो।",
            "अल्पसंख्यकों के खिलाफ़ भेदभाव और नस्लवाद खत्म हो।",
            "यातना और मानवाधिकार उल्लंघनों पर सख़्त कार्रवाई हो।",
        ),
    },
    "governance": {
        "en": (
            "Governance and corruption",
            "Fight corruption and make governments transparent and accountable.",
            "Strengthen democracy, fair elections and the rule of law.",
            "Reform the UN and public institutions so citizens have a real say in decisions.",
        ),
        "fr": (
            "Gouvernance et corruption",
            "Lutter contre la corruption et rendre les gouvernements transparents.",
            "Renforcer la démocratie, des élections libres et l'État de droit.",
            "Réformer l'ONU et les institutions pour que les citoyens participent aux décisions.",
        ),
        "es": (
            "Gobernanza y corrupción",
            "Combatir la corrupción y exigir gobiernos transparentes.",
            "Fortalecer la democracia, las elecciones limpias y el Estado de derecho.",
            "Reformar la ONU y las instituciones para que la ciudadanía participe en las decisiones.",
        ),
        "ar": (
            "الحوكمة والفساد",
            "مكافحة الفساد وجعل الحكومات شفافة وخاضعة للمساءلة.",
            "تعزيز الديمقراطية والانتخابات النزيهة وسيادة القانون.",
            "إصلاح الأمم المتحدة والمؤسسات العامة لإشراك المواطنين في القرار.",
        ),
        "ru": (
            "Государственное управление и коррупция",
            "Бороться с коррупцией и сделать власть прозрачной и подотчётной.",
            "Укреплять демократию, честные выборы и верховенство закона.",
            "Реформировать ООН и государственные институты, чтобы граждане участвовали в решениях.",
        ),
        "zh": (
            "治理与腐败",
            "打击腐败，让政府公开透明、接受问责。",
            "加强民主、公正选举和法治。",
            "改革联合国和公共机构，让公民真正参与决策。",
        ),
        "de": (
            "Regierungsführung und Korruption",
            "Korruption bekämpfen und Regierungen transparent machen.",
            "Demokratie, faire Wahlen und den Rechtsstaat stärken.",
            "Die UNO und Behörden reformieren, damit Bürger mitentscheiden können.",
        ),
        "pt": (
            "Governança e corrupção",
            "Combater a corrupção e tornar os governos transparentes.",
            "Fortalecer a democracia, eleições livres e o Estado de direito.",
            "Reformar a ONU e as instituições para que os cidadãos participem das decisões.",
        ),
        "hi": (
            "शासन और भ्रष्टाचार",
            "भ्रष्टाचार से लड़ा जाए और सरकारें पारदर्शी बनें।",
            "लोकतंत्र, निष्पक्ष चुनाव और कानून का राज मज़बूत हो।",
            "संयुक्त राष्ट्र और संस्थाओं में सुधार हो ताकि नागरिक फ़ैसलों में भाग ले सकें।",
        ),
    },
    "migration": {
        "en": (
            "Migration",
            "Protect the rights of refugees and migrants and welcome them with dignity.",
            "Manage migration and borders fairly and fight human trafficking.",
            "Help immigrants integrate through language courses and work.",
        ),
        "fr": (
            "Migrations",
            "Protéger les droits des réfugiés et des migrants et les accueillir dignement.",
            "Gérer les migrations et les frontières de façon juste.",
            "Aider les immigrés à s'intégrer par la langue et le travail.",
        ),
        "es": (
            "Migración",
            "Proteger los derechos de los refugiados y migrantes y acogerlos con dignidad.",
            "Gestionar la migración y las fronteras de forma justa y combatir la trata de personas.",
            "Ayudar a los inmigrantes a integrarse con cursos de idioma y empleo.",
        ),
        "ar": (
            "الهجرة",
            "حماية حقوق اللاجئين والمهاجرين واستقبالهم بكرامة.",
            "إدارة الهجرة والحدود بعدل ومكافحة الاتجار بالبشر.",
            "مساعدة المهاجرين على الاندماج عبر تعلم اللغة والعمل.",
        ),
        "ru": (
            "Миграция",
            "Защищать права беженцев и мигрантов и принимать их достойно.",
            "Справедливо регулировать миграцию и границы, бороться с торговлей людьми.",
            "Помогать иммигрантам интегрироваться через изучение языка и работу.",
        ),
        "zh": (
            "移民",
            "保护难民和移民的权利，有尊严地接纳他们。",
            "公平管理移民和边境，打击人口贩卖。",
            "通过语言课程和就业帮助移民融入社会。",
        ),
        "de": (
            "Migration",
            "Die Rechte von Geflüchteten und Migranten schützen und sie menschenwürdig aufnehmen.",
            "Migration und Grenzen fair regeln und Menschenhandel bekämpfen.",
            "Zuwanderern mit Sprachkursen und Arbeit bei der Integration helfen.",
        ),
        "pt": (
            "Migração",
            "Proteger os direitos dos refugiados e migrantes e acolhê-los com dignidade.",
            "Organizar a migração e as fronteiras de forma justa e combater o tráfico de pessoas.",
            "Ajudar os imigrantes a se integrar com cursos de idioma e trabalho.",
        ),
        "hi": (
            "प्रवासन",
            "शरणार्थियों और प्रवासियों के अधिकारों की रक्षा हो और उनका सम्मान से स्वागत हो।",
            "प्रवासन और सीमाओं का प्रबंधन न्यायपूर्ण हो और मानव तस्करी रोकी जाए।",
            "प्रवासियों को भाषा सिखाकर और काम देकर घुलने-मिलने में मदद की जाए।",
        ),
    },
    "food_water": {
        "en": (
            "Food and water",
            "End hunger so that everyone has enough healthy food.",
            "Give everyone access to clean drinking water and sanitation.",
            "Support farmers and sustainable agriculture to secure food supplies.",
        ),
        "fr": (
            "Alimentation et eau",
            "Éliminer la faim pour que chacun ait une alimentation saine et suffisante.",
            "Garantir l'accès à l'eau potable et à l'assainissement.",
            "Soutenir les agriculteurs et une agriculture durable.",
        ),
        "es": (
            "Alimentación y agua",
            "Acabar con el hambre para que todos tengan alimentos sanos.",
            "Garantizar el acceso al agua potable y al saneamiento.",
            "Apoyar a los agricultores y la agricultura sostenible.",
        ),
        "ar": (
            "الغذاء والمياه",
            "القضاء على الجوع ليحصل الجميع على غذاء صحي كافٍ.",
            "ضمان الحصول على مياه شرب نظيفة وصرف صحي.",
            "دعم المزارعين والزراعة المستدامة لتأمين الغذاء.",
        ),
        "ru": (
            "Продовольствие и вода",
            "Покончить с голодом, чтобы у всех была здоровая пища.",
            "Обеспечить всем доступ к чистой питьевой воде и санитарии.",
            "Поддерживать фермеров и устойчивое сельское хозяйство.",
        ),
        "zh": (
            "粮食与水",
            "消除饥饿，让每个人都有足够的健康食物。",
            "让所有人都能获得清洁饮用水和卫生设施。",
            "支持农民和可持续农业，保障粮食供应。",
        ),
        "de": (
            "Ernährung und Wasser",
            "Den Hunger beenden, damit alle genug gesunde Nahrung haben.",
            "Allen Zugang zu sauberem Trinkwasser und Sanitäranlagen geben.",
            "Bäuerinnen, Bauern und nachhaltige Landwirtschaft unterstützen.",
        ),
        "pt": (
            "Alimentação e água",
            "Acabar com a fome para que todos tenham comida saudável suficiente.",
            "Garantir a todos água potável e saneamento básico.",
            "Apoiar os agricultores e a agricultura sustentável.",
        ),
        "hi": (
            "भोजन और पानी",
            "भूख खत्म हो ताकि सबको पर्याप्त पौष्टिक भोजन मिले।",
            "सबको साफ़ पीने का पानी और स्वच्छता मिले।",
            "किसानों और टिकाऊ खेती को समर्थन मिले।",
        ),
    },
    "gender": {
        "en": (
            "Gender equality",
            "Achieve equal rights and equal pay for women and men.",
            "End violence against women and girls.",
            "Get more women into leadership and protect LGBTQ people from discrimination.",
        ),
        "fr": (
            "Égalité des genres",
            "Garantir l'égalité des droits et des salaires entre les femmes et les hommes.",
            "Mettre fin aux violences faites aux femmes et aux filles.",
            "Plus de femmes aux postes de direction et de décision.",
        ),
        "es": (
            "Igualdad de género",
            "Lograr la igualdad de derechos y de salario entre mujeres y hombres.",
            "Erradicar la violencia contra las mujeres y las niñas.",
            "Más mujeres en puestos de liderazgo y de decisión.",
        ),
        "ar": (
            "المساواة بين الجنسين",
            "تحقيق المساواة في الحقوق والأجور بين النساء والرجال.",
            "إنهاء العنف ضد النساء والفتيات.",
            "زيادة مشاركة المرأة في القيادة وصنع القرار.",
        ),
        "ru": (
            "Гендерное равенство",
            "Добиться равных прав и равной оплаты труда для женщин и мужчин.",
            "Покончить с насилием в отношении женщин и девочек.",
            "Больше женщин на руководящих должностях и в принятии решений.",
        ),
        "zh": (
            "性别平等",
            "实现男女权利平等和同工同酬。",
            "消除对妇女和女童的暴力。",
            "让更多女性参与领导和决策。",
        ),
        "de": (
            "Gleichstellung der Geschlechter",
            "Gleiche Rechte und gleichen Lohn für Frauen und Männer durchsetzen.",
            "Gewalt gegen Frauen und Mädchen beenden.",
            "Mehr Frauen in Führungspositionen und Entscheidungsgremien.",
        ),
        "pt": (
            "Igualdade de gênero",
            "Direitos iguais e salário igual para mulheres e homens.",
            "Acabar com a violência contra mulheres e meninas.",
            "Mais mulheres em cargos de liderança e de decisão.",
        ),
        "hi": (
            "लैंगिक समानता",
            "महिलाओं और पुरुषों को समान अधिकार और समान वेतन मिले।",
            "महिलाओं और लड़कियों के खिलाफ़ हिंसा खत्म हो।",
            "नेतृत्व और निर्णय लेने वाले पदों पर ज़्यादा महिलाएँ हों।",
        ),
    },
}

# sentiment label -> language -> example statements
SENTIMENT_ANCHORS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "positive": {
        "en": (
            "This is a great idea and I fully support it.",
            "I am hopeful, things are getting better.",
            "Thank you, the programme works well and helped my community.",
            "I love this proposal, it would make life so much better.",
        ),
        "fr": (
            "C'est une excellente idée, je la soutiens pleinement.",
            "Je suis optimiste, les choses s'améliorent.",
            "Merci, ce programme fonctionne bien et a aidé notre quartier.",
            "J'adore cette proposition, elle rendrait la vie bien meilleure.",
        ),
        "es": (
            "Es una idea estupenda y la apoyo totalmente.",
            "Tengo esperanza, las cosas están mejorando.",
            "Gracias, el programa funciona bien y ayudó a mi comunidad.",
            "Me encanta esta propuesta, haría la vida mucho mejor.",
        ),
        "ar": (
            "هذه فكرة رائعة وأنا أؤيدها تماماً.",
            "أنا متفائل، الأمور تتحسن.",
            "شكراً، البرنامج يعمل جيداً وساعد مجتمعنا.",
            "أحب هذا الاقتراح، سيجعل الحياة أفضل بكثير.",
        ),
        "ru": (
            "Отличная идея, я полностью её поддерживаю.",
            "Я надеюсь на лучшее, ситуация улучшается.",
            "Спасибо, программа хорошо работает и помогла нашему району.",
            "Мне очень нравится это предложение, жизнь станет намного лучше.",
        ),
        "zh": (
            "这是个好主意，我完全支持。",
            "我很有希望，情况正在好转。",
            "谢谢，这个项目效果很好，帮助了我们社区。",
            "我很喜欢这个建议，它会让生活变得更好。",
        ),
        "de": (
            "Das ist eine großartige Idee, ich unterstütze sie voll.",
            "Ich bin zuversichtlich, es wird besser.",
            "Danke, das Programm funktioniert gut und hat unserer Gemeinde geholfen.",
            "Ich finde den Vorschlag toll, er würde das Leben viel besser machen.",
        ),
    },
    "neutral": {
        "en": (
            "The meeting takes place on Tuesday.",
            "The government should publish the budget every year.",
            "Buses could run every thirty minutes.",
            "I live in a small town and work in an office.",
        ),
        "fr": (
            "La réunion a lieu mardi.",
            "Le gouvernement devrait publier son budget chaque année.",
            "Les bus pourraient passer toutes les trente minutes.",
            "J'habite dans une petite ville et je travaille dans un bureau.",
        ),
        "es": (
            "La reunión es el martes.",
            "El gobierno debería publicar el presupuesto cada año.",
            "El autobús podría pasar cada treinta minutos.",
            "Vivo en un pueblo pequeño y trabajo en una oficina.",
        ),
        "ar": (
            "يعقد الاجتماع يوم الثلاثاء.",
            "ينبغي أن تنشر الحكومة الميزانية كل عام.",
            "يمكن أن تمر الحافلة كل ثلاثين دقيقة.",
            "أعيش في بلدة صغيرة وأعمل في مكتب.",
        ),
        "ru": (
            "Встреча состоится во вторник.",
            "Правительству следует ежегодно публиковать бюджет.",
            "Автобус мог бы ходить каждые тридцать минут.",
            "Я живу в небольшом городе и работаю в офисе.",
        ),
        "zh": (
            "会议在星期二举行。",
            "政府应该每年公布预算。",
            "公交车可以每三十分钟一班。",
            "我住在一个小镇，在办公室工作。",
        ),
        "de": (
            "Das Treffen findet am Dienstag statt.",
            "Die Regierung sollte jedes Jahr das Budget veröffentlichen.",
            "Der Bus könnte alle dreißig Minuten fahren.",
            "Ich wohne in einer kleinen Stadt und arbeite in einem Büro.",
        ),
    },
    "negative": {
        "en": (
            "This is a terrible idea and it will fail.",
            "I am angry that nothing is being done.",
            "The current system is unfair and broken.",
            "I am worried and afraid for the future.",
        ),
        "fr": (
            "C'est une idée terrible, ça va échouer.",
            "Je suis en colère que rien ne soit fait.",
            "Le système actuel est injuste et ne fonctionne pas.",
            "J'ai peur et je suis inquiet pour l'avenir.",
        ),
        "es": (
            "Es una idea terrible y va a fracasar.",
            "Me indigna que no se haga nada.",
            "El sistema actual es injusto y no funciona.",
            "Tengo miedo y me preocupa el futuro.",
        ),
        "ar": (
            "هذه فكرة سيئة جداً وستفشل.",
            "أنا غاضب لأن لا أحد يفعل شيئاً.",
            "النظام الحالي ظالم وفاشل.",
            "أنا قلق وخائف على المستقبل.",
        ),
        "ru": (
            "Это ужасная идея, и она провалится.",
            "Меня злит, что ничего не делается.",
            "Нынешняя система несправедлива и не работает.",
            "Я боюсь и волнуюсь за будущее.",
        ),
        "zh": (
            "这是个糟糕的主意，一定会失败。",
            "什么都没做，我很生气。",
            "现行制度不公平，而且行不通。",
            "我对未来感到担心和害怕。",
        ),
        "de": (
            "Das ist eine schreckliche Idee und wird scheitern.",
            "Ich bin wütend, dass nichts passiert.",
            "Das jetzige System ist ungerecht und kaputt.",
            "Ich habe Angst und mache mir Sorgen um die Zukunft.",
        ),
    },
}
